import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { frameParser } from './frame-parser.js';
import { DEFAULTS } from './options/defaults.js';

export interface SocketServerOptions {
  handshakeTimeout: number;
  maxFrameSize: number;
  /** engine.io ping period and answer deadline, ms: sent to the dialer in the handshake, so the accepting side's values rule a link. */
  heartbeat?: { interval: number; timeout: number };
  /** Plain HTTP requests (anything that is not the socket.io upgrade). */
  onRequest: RequestListener;
}

/**
 * The HTTP + socket.io server every accepting side uses (the manager and each worker's mesh
 * port): WebSocket only, our frame parser, and no unauthenticated connection kept longer than
 * a handshake.
 */
export function createSocketServer(options: SocketServerOptions): { http: HttpServer; io: Server } {
  // Until it upgrades to a WebSocket a connection is unauthenticated: give it no longer than a
  // handshake to send its headers (headersTimeout) or anything at all (timeout; ws clears it on upgrade).
  const t = Number.isFinite(options.handshakeTimeout) && options.handshakeTimeout > 0 ? Math.ceil(options.handshakeTimeout) : 0; // node wants integers; 0 = off
  const http = createServer(
    { headersTimeout: t, requestTimeout: t, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(t / 4))) },
    options.onRequest,
  );
  http.timeout = t;
  const io = new Server(http, {
    transports: ['websocket'],
    parser: frameParser,
    serveClient: false,
    maxHttpBufferSize: options.maxFrameSize + 1024,
    connectTimeout: options.handshakeTimeout,
    // engine.io's heartbeat is the liveness check of every link: the dialer learns these
    // values in the handshake and drops a link that misses a ping for interval + timeout.
    pingInterval: options.heartbeat?.interval ?? DEFAULTS.heartbeatInterval,
    pingTimeout: options.heartbeat?.timeout ?? DEFAULTS.heartbeatTimeout,
  });
  return { http, io };
}

/** `server.listen` as a promise that rejects on EADDRINUSE and the like. */
export function listen(server: HttpServer, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
