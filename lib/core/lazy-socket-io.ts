import type { Server } from 'socket.io';
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { frameParser } from './frame-parser.js';
import type { SealedFrameWebSocket } from './sealed-frame-transport.js';

/*
 * socket.io's server side (engine.io, ws, accepts/mime-db, cors, …) and its client side
 * (engine.io-client, …) are most of what importing socket-mesh would cost, and a process needs
 * them only once it listens or connects. They are loaded here, once each, by the first
 * `start()` / `ready()` that needs them; the frame parser (socket.io-parser) comes with either.
 */

type ClientFactory = (uri: string, options?: Partial<ManagerOptions & SocketOptions>) => Socket;
type ServerClass = new (...args: ConstructorParameters<typeof Server>) => Server;
type FrameParser = typeof frameParser;

export interface SocketIoClient {
  io: ClientFactory;
  frameParser: FrameParser;
  /** The WebSocket transport peer links dial with (engine.io-client's, sealed frames unmasked). */
  SealedFrameWebSocket: typeof SealedFrameWebSocket;
}

export interface SocketIoServer {
  Server: ServerClass;
  frameParser: FrameParser;
}

let client: Promise<SocketIoClient> | undefined;
let loadedClient: SocketIoClient | undefined;
let server: Promise<SocketIoServer> | undefined;

/** Loads socket.io-client (and the frame parser) once; later calls get the same promise. */
export function loadSocketIoClient(): Promise<SocketIoClient> {
  // One import at a time: concurrent dynamic imports of overlapping module graphs can stall
  // in some loaders (Jest's VM modules among them), and the order costs nothing measurable.
  client ??= (async () => {
    const p = await import('./frame-parser.js');
    const c = await import('socket.io-client');
    const t = await import('./sealed-frame-transport.js');
    loadedClient = { io: c.io, frameParser: p.frameParser, SealedFrameWebSocket: t.SealedFrameWebSocket };
    return loadedClient;
  })();
  return client;
}

/** socket.io-client once `loadSocketIoClient()` has resolved (a node awaits it before it registers). */
export function socketIoClient(): SocketIoClient {
  if (!loadedClient) throw new Error('socket.io-client is not loaded yet: await loadSocketIoClient() first');
  return loadedClient;
}

/** Loads the socket.io server (and the frame parser) once; later calls get the same promise. */
export function loadSocketIoServer(): Promise<SocketIoServer> {
  server ??= (async () => {
    const p = await import('./frame-parser.js');
    const s = await import('socket.io');
    return { Server: s.Server, frameParser: p.frameParser };
  })();
  return server;
}
