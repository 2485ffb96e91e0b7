import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';
import type { MeshLogger } from '../logger.js';
import { forLog } from '../mesh-name.js';
import { LogOnce } from './log-once.js';
import { RateLimiter } from './rate-limiter.js';

export interface ConnectionGateOptions {
  /** New connections accepted per second from one remote address; more are refused at the upgrade. */
  perSecond: number;
  /** Connections that have not proven the keys yet, at once, on this port; more are closed at once. */
  maxUnauthenticated: number;
  logger: MeshLogger;
}

/** The connections a gate still counts as unauthenticated, with how to stop counting each. */
const releases = new WeakMap<object, () => void>();

/**
 * Called by the handshake once a connection proved the keys (`socket.conn`): it no longer
 * counts against its port's cap of unauthenticated connections.
 */
export function markAuthenticated(conn: object): void {
  releases.get(conn)?.();
}

/**
 * What an accepting port does before anyone proved anything, kept cheap: a per-address rate
 * limit and a cap on unauthenticated connections (both checked at the WebSocket upgrade, before
 * engine.io builds a connection), and one socket.io socket per connection, so CONNECT packets
 * in one TCP read cannot each cost a key pair, a DH and an HMAC. Refusals are logged once per
 * address and reason, then at debug.
 */
export class ConnectionGate {
  private unauthenticated = 0;
  private readonly rate: RateLimiter;
  private readonly refusals: LogOnce;
  private readonly withSocket = new WeakSet<object>();

  constructor(private readonly options: ConnectionGateOptions) {
    this.rate = new RateLimiter(options.perSecond);
    this.refusals = new LogOnce(options.logger);
  }

  get unauthenticatedCount(): number {
    return this.unauthenticated;
  }

  /** engine.io's `allowRequest`: runs for each new connection before any of it is built. */
  readonly allowRequest = (req: IncomingMessage, done: (err: string | null | undefined, success: boolean) => void): void => {
    const address = req.socket.remoteAddress ?? '?';
    if (this.rate.over(address)) {
      this.refuse(address, 'rate', `over ${this.options.perSecond} new connections a second`);
      return done('refused', false);
    }
    if (this.unauthenticated >= this.options.maxUnauthenticated) {
      this.refuse(address, 'cap', `${this.unauthenticated} connections are already waiting for a handshake`);
      return done('refused', false);
    }
    done(null, true);
  };

  /** Hooks the gate into a socket.io server whose engine was built with `allowRequest` above. */
  install(io: Server): void {
    io.engine.on('connection', (conn: { remoteAddress: string; once(event: 'close', fn: () => void): void; close(): void }) => {
      // allowRequest already checked the cap; upgrades in flight at once can still pass it together.
      if (this.unauthenticated >= this.options.maxUnauthenticated) {
        this.refuse(conn.remoteAddress, 'cap', `${this.unauthenticated} connections are already waiting for a handshake`);
        conn.close();
        return;
      }
      this.unauthenticated++;
      let counted = true;
      const release = () => {
        if (!counted) return;
        counted = false;
        this.unauthenticated--;
        releases.delete(conn);
      };
      releases.set(conn, release);
      conn.once('close', release);
    });
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
