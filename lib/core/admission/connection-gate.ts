import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';
import type { MeshLogger } from '../logger.js';
import { forLog } from '../mesh-name.js';
import { LogOnce } from './log-once.js';
import { HandshakeQueue, type QueueRefusal } from './handshake-queue.js';

export interface ConnectionGateOptions {
  /** New connections let through per second from one remote address; more wait their turn (at this pace). */
  perSecond: number;
  /** Connections that have not proven the keys yet, at once, on this port; more wait their turn. */
  maxUnauthenticated: number;
  /** Connections waiting for a turn, in all (default 4 × maxUnauthenticated); more are refused at once. */
  maxQueued?: number;
  /**
   * Longest a connection waits for its turn, ms (default QUEUE_WAIT_MS: under the dialers'
   * OPEN_WAIT_MS, so a refusal, not the dialer's timeout, tells them the port is too busy).
   */
  maxWaitMs?: number;
  logger: MeshLogger;
}

/** Longest a connection waits at the upgrade for its handshake turn by default, ms (dialers wait longer: dialer-guard.ts). */
export const QUEUE_WAIT_MS = 8000;

/** The turns a gate gave and not yet got back, by the upgrade request that holds one. */
const releases = new WeakMap<object, () => void>();

/**
 * Called by the handshake once a connection proved the keys (`socket.conn`): it no longer
 * counts against its port's cap of unauthenticated connections, and the next one waiting goes.
 */
export function markAuthenticated(conn: { request?: object }): void {
  if (conn.request) releases.get(conn.request)?.();
}

const WHY: Record<QueueRefusal, (o: ConnectionGateOptions) => string> = {
  rate: (o) => `over ${o.perSecond} new connections a second`,
  full: (o) => `${o.maxQueued ?? 4 * o.maxUnauthenticated} connections are already waiting for a handshake`,
  wait: (o) => `waited ${o.maxWaitMs ?? QUEUE_WAIT_MS} ms for a handshake turn`,
};

/**
 * What an accepting port does before anyone proved anything, kept cheap: at most
 * `maxUnauthenticated` connections in their handshake at once, each address at its own pace,
 * and the rest waiting their turn in a bounded, per-address fair queue (handshake-queue.ts),
 * all decided at the WebSocket upgrade, before engine.io builds a connection. One socket.io
 * socket per connection, so CONNECT packets in one TCP read cannot each cost a key pair, a DH
 * and an HMAC. Refusals are logged once per address and reason, then at debug.
 */
export class ConnectionGate {
  private readonly queue: HandshakeQueue;
  private readonly refusals: LogOnce;
  private readonly withSocket = new WeakSet<object>();

  constructor(private readonly options: ConnectionGateOptions) {
    this.queue = new HandshakeQueue({
      maxActive: options.maxUnauthenticated,
      maxQueued: options.maxQueued ?? 4 * options.maxUnauthenticated,
      perSecond: options.perSecond,
      maxWaitMs: options.maxWaitMs ?? QUEUE_WAIT_MS,
    });
    this.refusals = new LogOnce(options.logger);
  }

  /** Connections let through that have not proven the keys yet. */
  get unauthenticatedCount(): number {
    return this.queue.activeCount;
  }

  /** Connections waiting for their turn. */
  get queuedCount(): number {
    return this.queue.queuedCount;
  }

  /** engine.io's `allowRequest`: runs for each new connection before any of it is built. */
  readonly allowRequest = (req: IncomingMessage, done: (err: string | null | undefined, success: boolean) => void): void => {
    let settled = false;
    const socket = req.socket;
    const address = socket.remoteAddress ?? '?';
    // Gone while waiting (the dialer gave up): its place goes to the next one. After the upgrade
    // request nothing reads the socket, so a hang-up would go unseen: read while it waits (a
    // dialer sends nothing before the 101, so any byte is a violation) and stop before it goes on.
    const onGone = () => {
      if (!settled) withdraw();
    };
    const hangUp = () => socket.destroy();
    const watch = (on: boolean) => {
      if (on) {
        socket.once('close', onGone).on('data', hangUp).once('end', hangUp);
        return;
      }
      socket.off('close', onGone).off('data', hangUp).off('end', hangUp);
      socket.pause();
      // As the HTTP server leaves an upgraded socket: the next 'data' listener (ws) resumes it.
      (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    };
    watch(true);
    // 'close' cannot fire before request() returns: onGone never sees withdraw uninitialised.
    const withdraw = this.queue.request(
      address,
      () => {
        settled = true;
        watch(false);
        // The turn is held until the connection proves the keys or goes, whichever is first.
        let held = true;
        const release = () => {
          if (!held) return;
          held = false;
          releases.delete(req);
          socket.off('close', release);
          this.queue.release();
        };
        releases.set(req, release);
        if (socket.destroyed) return release();
        socket.once('close', release);
        // The 101 and engine.io's open packet leave in one write instead of two: each write wakes
        // the dialer, the dearest part of a small write on a VM (bench/README.md, "One write for
        // the upgrade"). engine.io writes its open packet after an await: uncorked at the check phase.
        socket.cork();
        setImmediate(() => socket.uncork());
        done(null, true);
      },
      (reason) => {
        settled = true;
        watch(false);
        this.refuse(address, reason, WHY[reason](this.options));
        done('refused', false);
      },
    );
  };

  /** Hooks the gate into a socket.io server whose engine was built with `allowRequest` above. */
  install(io: Server): void {
    io.use((socket: Socket, next: (err?: Error) => void) => {
      if (!this.withSocket.has(socket.conn)) {
        this.withSocket.add(socket.conn);
        return next();
      }
      // A second CONNECT on one connection: drop the connection before any handshake work.
      this.refuse(socket.handshake.address, 'second', 'a second socket.io CONNECT on one connection');
      socket.conn.close();
      next(new Error('refused'));
    });
  }

  private refuse(address: string, reason: string, why: string): void {
    this.refusals.warn(
      `${reason} ${address}`,
      `refused a connection from ${forLog(address, 64)}: ${why} (further refusals from this address at debug)`,
    );
  }
}
