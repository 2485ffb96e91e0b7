import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { ConnectionGate } from './admission/connection-gate.js';
import { loadSocketIoServer } from './lazy-socket-io.js';
import { MESH_LINK_BACKSTOP } from './node/link-liveness.js';
import { serverTlsOptions, type MeshTlsOptions } from './tls/tls-options.js';

export interface SocketServerOptions {
  handshakeTimeout: number;
  maxFrameSize: number;
  /** Plain HTTP requests (anything that is not the socket.io upgrade). */
  onRequest: RequestListener;
  /** Rate limit, unauthenticated cap and one socket per connection (lib/core/admission). */
  gate?: ConnectionGate;
  /** Identities with TLS: an HTTPS server that requires and verifies client certificates. */
  tls?: MeshTlsOptions;
}

/**
 * The socket.io side of a socket server. socket.io itself is loaded and attached by `listen()`
 * (see lazy-socket-io.ts): until then nobody can connect, so nothing is missed.
 */
export class SocketServer {
  private io: Server | undefined;
  private attaching: Promise<void> | undefined;
  private closed = false;
  private readonly listeners: Array<(socket: Socket) => unknown> = [];

  constructor(
    private readonly http: HttpServer,
    private readonly options: Partial<ServerOptions>,
    private readonly gate?: ConnectionGate,
  ) {}

  /** engine.io's server once attached: its connection count, for leak checks. */
  get engine(): Server['engine'] | undefined {
    return this.io?.engine;
  }

  on(_event: 'connection', listener: (socket: Socket) => unknown): void {
    this.listeners.push(listener);
    this.io?.on('connection', listener);
  }

  /** Loads socket.io (once per process) and attaches it to the HTTP server. */
  attach(): Promise<void> {
    this.attaching ??= loadSocketIoServer().then(({ Server: SocketIo, frameParser }) => {
      if (this.closed) return;
      this.io = new SocketIo(this.http, { ...this.options, parser: frameParser });
      this.gate?.install(this.io);
      for (const listener of this.listeners) this.io.on('connection', listener);
    });
    return this.attaching;
  }

  /** True once close() was called: a listen() still loading socket.io must not open the port after it. */
  get isClosed(): boolean {
    return this.closed;
  }

  close(done: () => void): void {
    this.closed = true;
    if (this.io) void this.io.close(() => done());
    else done();
  }
}

const pending = new WeakMap<HttpServer, SocketServer>();

/**
 * The HTTP + socket.io server every accepting side uses (the manager and each worker's mesh
 * port): WebSocket only, our frame parser, and no unauthenticated connection kept longer than
 * a handshake.
 */
export function createSocketServer(options: SocketServerOptions): { http: HttpServer; io: SocketServer } {
  // Until it upgrades to a WebSocket a connection is unauthenticated: give it no longer than a
  // handshake to send its headers (headersTimeout) or anything at all (timeout; ws clears it on upgrade).
  const t = Number.isFinite(options.handshakeTimeout) && options.handshakeTimeout > 0 ? Math.ceil(options.handshakeTimeout) : 0; // node wants integers; 0 = off
  const timeouts = {
    headersTimeout: t,
    requestTimeout: t,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(t / 4))),
  };
  // https.Server is an http.Server for everything used here (listen, close, upgrade, timeouts).
  // node:https (and node:tls) are loaded only in TLS mode: ~8 ms of import time nobody else pays.
  const http = options.tls
    ? (process
        .getBuiltinModule('node:https')
        .createServer({ ...timeouts, ...serverTlsOptions(options.tls, t) }, options.onRequest) as unknown as HttpServer)
    : createServer(timeouts, options.onRequest);
  http.timeout = t;
  const io = new SocketServer(
    http,
    {
      transports: ['websocket'],
      serveClient: false,
      maxHttpBufferSize: options.maxFrameSize + 1024,
      connectTimeout: options.handshakeTimeout,
      perMessageDeflate: false,
      ...(options.gate ? { allowRequest: options.gate.allowRequest } : {}),
      // engine.io's own ping is only a backstop to the heartbeat each pair of processes shares
      // (node/link-liveness.ts), on every accepting port alike; the dialer learns it in the handshake.
      pingInterval: MESH_LINK_BACKSTOP.interval,
      pingTimeout: MESH_LINK_BACKSTOP.timeout,
    },
    options.gate,
  );
  pending.set(http, io);
  return { http, io };
}

const LISTEN_BACKLOG = 4096;

/**
 * `server.listen` as a promise that rejects on EADDRINUSE and the like; a server made by
 * createSocketServer gets its socket.io attached first.
 */
export async function listen(server: HttpServer, port: number, host?: string): Promise<void> {
  const io = pending.get(server);
  await io?.attach();
  // Closed while socket.io was loading: opening the port now would outlive close().
  if (io?.isClosed) throw new Error('closed before it listened');
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A thousand workers redialing a restarted manager at once overflow Node's default backlog
    // of 511: the dropped SYNs come back only after TCP's 1 s and 3 s retransmits, past the
    // dialers' 2 s connect timeout. The kernel caps it at net.core.somaxconn.
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
