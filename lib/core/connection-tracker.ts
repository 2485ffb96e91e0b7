import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Socket as ClientSocket } from 'socket.io-client';

/**
 * Every raw connection an HTTP server accepted, upgraded ones included (the http server stops
 * tracking a socket once it is upgraded, so `closeAllConnections()` alone misses WebSockets).
 * A graceful WebSocket close waits for the peer's close frame, up to 30 s in `ws`: across a
 * partition that never comes, so close() destroys what is left once its grace is over.
 */
export class ConnectionTracker {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly http: HttpServer) {
    http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Destroys every connection still open: nothing is left holding the process. */
  destroyAll(): void {
    this.http.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

/** Resolves after `ms` (or at once when ms ≤ 0) without keeping the process up by itself. */
export function graceDelay(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Disconnects a socket.io client and, shortly after, destroys its WebSocket: its close
 * handshake would otherwise keep a socket and a 30 s timer alive when the peer is unreachable.
 * The short wait lets a last frame (UNREGISTER, DISCONNECT) leave first.
 */
export function hardDisconnect(socket: ClientSocket, graceMs = 200): void {
  const ws = (socket.io.engine as unknown as { transport?: { ws?: { terminate?(): void } | null } } | undefined)?.transport?.ws;
  socket.disconnect();
  if (socket.io.engine === undefined) return;
  if (ws?.terminate) setTimeout(() => ws.terminate!(), graceMs).unref();
}
