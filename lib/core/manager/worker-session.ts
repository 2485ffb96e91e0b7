import type { Socket } from 'socket.io';
import { LogOnce } from '../admission/log-once.js';
import type { MeshError } from '../errors.js';
import type { MeshLogger } from '../logger.js';
import { encode } from '../protocol.js';
import { LinkHeartbeat, type LivenessTimes } from '../node/link-liveness.js';
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
  /** Shared with the sessions of the worker's process (node/link-liveness.ts). */
  heartbeat?: LinkHeartbeat;
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

/**
 * The heartbeat of a worker's session, shared with the other sessions of the worker's process
 * (node/link-liveness.ts), joined once it proved the keys (a session that never registers is
 * refused on its own timer). Its process silent: the session is dropped, and so its instance.
 */
export function sessionHeartbeat(
  session: WorkerSession,
  peer: { worker: string; proc: string },
  address: string,
  times: LivenessTimes,
  logger: MeshLogger,
): LinkHeartbeat {
  const heartbeat = new LinkHeartbeat(times, {
    ping: () => {
      if (session.channel.isClosed) return false;
      session.channel.send(encode.ping());
      return true;
    },
    lost: (silentMs) => {
      logger.warn(`${peer.worker} at ${address}: nothing heard from its process for ${Math.round(silentMs)} ms; dropped`);
      session.socket.disconnect(true);
      // A dead connection would wait for its close handshake.
      session.socket.request.socket.destroy();
    },
  });
  heartbeat.join({ worker: 'worker', host: address, proc: peer.proc });
  return heartbeat;
}

/** The worker name a connecting socket claims (unverified: for log de-duplication only). */
function claimedWorker(socket: Socket): string {
  const hello = (socket.handshake.auth as { hello?: { worker?: unknown } } | undefined)?.hello;
  return typeof hello?.worker === 'string' ? hello.worker.slice(0, 256) : '?';
}
