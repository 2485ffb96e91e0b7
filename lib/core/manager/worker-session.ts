import type { Socket } from 'socket.io';
import { LogOnce } from '../admission/log-once.js';
import type { MeshError } from '../errors.js';
import type { MeshLogger } from '../logger.js';
import { encode } from '../protocol.js';
import type { SecureChannel } from '../secure-channel.js';
import type { RegisteredInstance } from './registry.js';

/** A worker's connection with the manager, from its proof of the keys until it goes. */
export interface WorkerSession {
  socket: Socket;
  channel: SecureChannel;
  /** Set once it registered (and unset when it left or was replaced). */
  instance?: RegisteredInstance;
  /** The topology it was last sent (encoded): an unchanged one is not sent again. */
  lastTopology?: string;
}

/**
 * How the manager turns workers away, and how it says so in its log. What an attacker can
 * repeat at will (other keys, a certificate naming another worker) is logged once per key, then
 * at debug; a worker that proved the keys is told why, sealed, before its connection drops.
 */
export class WorkerRefusals {
  private readonly once: LogOnce;

  constructor(private readonly logger: MeshLogger) {
    this.once = new LogOnce(logger);
  }

  /** The handshake failed (usually other keys: such a worker retries forever). */
  handshakeFailed(socket: Socket, err: Error): void {
    const address = socket.handshake.address;
    this.once.warn(`${address} ${claimedWorker(socket)}`, `refused a connection from ${address}: ${err.message}`);
  }

  /** `logOnceKey`: set for refusals an attacker can repeat at will. */
  refuse(session: WorkerSession, error: MeshError, logOnceKey?: string): void {
    const line = `refused ${session.socket.handshake.address}: ${error.message}`;
    if (logOnceKey === undefined) this.logger.warn(line);
    else this.once.warn(logOnceKey, line);
    try {
      session.channel.send(encode.refused(error.toJSON()));
    } catch {
      // channel already closed
    }
    session.channel.close();
    session.socket.disconnect(true);
  }
}

/** The worker name a connecting socket claims (unverified: for log de-duplication only). */
function claimedWorker(socket: Socket): string {
  const hello = (socket.handshake.auth as { hello?: { worker?: unknown } } | undefined)?.hello;
  return typeof hello?.worker === 'string' ? hello.worker.slice(0, 256) : '?';
}
