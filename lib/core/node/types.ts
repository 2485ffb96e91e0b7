import type { LocalCommand } from '../command-spec.js';
import type { PrivateKeyOption } from '../crypto/mesh-keys.js';
import type { MeshLogger } from '../logger.js';
import type { ManagerAddress } from '../link-address.js';
import type { NodeTuningOptions } from '../options/node-options.js';
import type { QueueBackend } from '../queue/command-queue.js';
import type { MeshTlsOptions } from '../tls/tls-options.js';

export type { CallOptions } from '../options/call-options.js';

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

export interface MeshNodeOptions extends NodeTuningOptions {
  worker: string;
  /** Unique in the mesh; stable across restarts when set. Default: a random id. */
  variant?: string;
  /** One manager, or several: the worker registers with each and merges their topologies. */
  manager: ManagerAddress | readonly ManagerAddress[];
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
  /** One key, or a list for a rotation (current first). */
  privateKey: PrivateKeyOption;
  logger: MeshLogger;
  /** Identities with TLS: every link over TLS with certificates on both ends (default off: shared keys only). */
  tls?: MeshTlsOptions;
  /** Where queued broadcasts are stored; default in memory. Closed by the node. */
  queues?: QueueBackend;
}
