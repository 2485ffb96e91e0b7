import { createRequire } from 'node:module';
import type * as SocketIo from 'socket.io';
import type * as SocketIoClientModule from 'socket.io-client';
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { frameParser } from './frame-parser.js';
import type { SealedFrameWebSocket } from './sealed-frame-transport.js';

/*
 * socket.io's server side (engine.io, ws, accepts/mime-db, cors, …) and its client side
 * (engine.io-client, …) are most of what importing socket-mesh would cost, and a process needs
 * them only once it listens or connects. They are loaded here, once each, by the first
 * `start()` / `ready()` that needs them; the frame parser (socket.io-parser) comes with either.
 *
 * Both are loaded with require(), as CommonJS: their ESM entries are a second copy of the same
 * code (socket.io-client's, ESM files that import CommonJS `ws` and `debug` through the ESM
 * loader), which took about twice the CPU to load here (measured: bench/README.md, "Start-up").
 * The frame parser takes socket.io-parser from the same CommonJS copy.
 */

type ClientFactory = (uri: string, options?: Partial<ManagerOptions & SocketOptions>) => Socket;
type ServerClass = new (...args: ConstructorParameters<typeof SocketIo.Server>) => SocketIo.Server;
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

const require = createRequire(import.meta.url);
let parser: Promise<FrameParser> | undefined;
let client: Promise<SocketIoClient> | undefined;
let loadedClient: SocketIoClient | undefined;
let server: Promise<SocketIoServer> | undefined;

function loadFrameParser(): Promise<FrameParser> {
  parser ??= import('./frame-parser.js').then((p) => p.frameParser);
  return parser;
}

/** Loads socket.io-client (and the frame parser) once; later calls get the same promise. */
export function loadSocketIoClient(): Promise<SocketIoClient> {
  client ??= loadFrameParser().then(async (frameParser) => {
    const c = require('socket.io-client') as typeof SocketIoClientModule;
    const t = await import('./sealed-frame-transport.js');
    loadedClient = { io: c.io, frameParser, SealedFrameWebSocket: t.SealedFrameWebSocket };
    return loadedClient;
  });
  return client;
}

/** socket.io-client once `loadSocketIoClient()` has resolved (a node awaits it before it registers). */
export function socketIoClient(): SocketIoClient {
  if (!loadedClient) throw new Error('socket.io-client is not loaded yet: await loadSocketIoClient() first');
  return loadedClient;
}

/** Loads the socket.io server (and the frame parser) once; later calls get the same promise. */
export function loadSocketIoServer(): Promise<SocketIoServer> {
  server ??= loadFrameParser().then((frameParser) => {
    const s = require('socket.io') as typeof SocketIo;
    return { Server: s.Server, frameParser };
  });
  return server;
}
