import type { LocalCommand } from '../command-spec.js';
import type { MeshLogger } from '../logger.js';
import type { ManagerAddress } from '../manager-link.js';
import type { QueueBackend } from '../queue/command-queue.js';

/** Options of one call; every field optional. */
export interface CallOptions {
  /** ms; default: the command's own timeout, else the worker's, else 10 000. */
  timeout?: number;
  /** Only these variants may be chosen or reached. */
  only?: string | readonly string[];
  /** These variants are never chosen or reached. */
  exclude?: string | readonly string[];
  /** Broadcasts: resolve with every instance's outcome instead of rejecting on a failure. */
  settle?: boolean;
  /** Balanced: retry on MESH_PEER_DISCONNECTED / MESH_NO_PEER on another instance (idempotent commands only). */
  retries?: number;
}

/** A connected instance, as `peers()` lists it. */
export interface PeerDescriptor {
  worker: string;
  variant: string;
  host: string;
  port: number;
}

export interface MeshEventPayload {
  worker: string;
  variant: string;
  /** For peer events: 'outgoing' (a peer this worker calls) or 'incoming' (a caller of this worker). */
  direction?: 'outgoing' | 'incoming';
}

export interface MeshNodeOptions {
  worker: string;
  /** Unique in the mesh; stable across restarts when set. Default: a random id. */
  variant?: string;
  manager: ManagerAddress;
  /** This worker's own port for peers; 0 or undefined picks a free one. */
  meshPort?: number;
  /** Address the mesh server binds to (default all interfaces). */
  bindHost?: string;
  /** The address peers dial; default the address the manager sees. */
  advertiseHost?: string;
  allow: readonly string[] | 'anyNode';
  connect: readonly string[];
  commands: readonly LocalCommand[];
  publicKey: string;
  privateKey: string;
  logger: MeshLogger;
  /** Where queued broadcasts are stored; default in memory. Closed by the node. */
  queues?: QueueBackend;
  timeout?: number;
  maxFrameSize?: number;
  handshakeTimeout?: number;
  /** Requests one caller instance may have running here at once (default 4096). */
  maxInFlight?: number;
  /** Calls this node may have waiting on one peer instance (default 10 000). */
  maxPending?: number;
  /** How long close() waits for requests still running (default 5000 ms). */
  drainTimeout?: number;
}
