import type { PrivateKeyOption } from '../crypto/mesh-keys.js';
import type { ManagerAddress } from '../link-address.js';
import type { RedisConnectionOption } from '../queue/redis-queue.js';
import { readTlsOptions, type MeshTlsOptions } from '../tls/tls-options.js';
import { DEFAULTS } from './defaults.js';
import type { OptionReader } from './option-reader.js';

/** Queue settings of queued broadcasts, the same object (`queue`) in both fronts. */
export interface QueueOptions {
  /** Memory queues: requests stored and unfinished per queue before callers get MESH_QUEUE_FULL (default 10 000). */
  maxPending?: number;
  /** Redis queues: runs of a request whose handler throws, the first included (default 3). */
  attempts?: number;
  /** Redis queues: ms before the first retry, doubling at each further one (default 1000). */
  backoff?: number;
}

/** The limits and timings of a worker, spelt alike in both fronts' options. */
export interface NodeTuningOptions {
  /** Default call timeout, ms (default 10 000). */
  timeout?: number;
  /** Largest frame sent or accepted, bytes (default 1 MiB). */
  maxFrameSize?: number;
  /** Handshake deadline for callers dialing in, ms (default 5000). */
  handshakeTimeout?: number;
  /** Requests one caller instance may have running here at once (default 4096); over it: MESH_OVERLOADED. */
  maxInFlight?: number;
  /** Calls this worker may have waiting on one peer instance (default 10 000); over it: MESH_OVERLOADED. */
  maxPending?: number;
  /** How long close() / shutdown lets running requests finish, ms (default 5000); close() ends every connection within it. */
  drainTimeout?: number;
  /** New connections the mesh port accepts per second from one address (default 100); more are refused at the upgrade. */
  handshakesPerSecond?: number;
  /** Connections on the mesh port that have not proven the keys yet, at once (default 256); more are closed at once. */
  maxUnauthenticated?: number;
  /** Liveness ping period of the links callers open to this worker, ms (default 2000). */
  heartbeatInterval?: number;
  /** A caller that misses a ping for this long is dropped, ms (default 2500): a silent partition is noticed within interval + timeout. */
  heartbeatTimeout?: number;
}

/** Identities with TLS, spelt alike in both fronts' worker and manager options. */
export interface NodeTlsOption {
  /**
   * Opt-in: every link runs over TLS with a certificate on both ends, and a worker's name is the
   * one its certificate gives (URI SAN last segment, else CN). Default: shared keys only.
   */
  tls?: MeshTlsOptions;
}

/**
 * A worker's options after validation, defaults applied: the one shape both fronts produce
 * from their own user-facing options, and what the node is built from. Field names are the
 * core's (`variant`, `advertiseHost`), whatever each front calls them.
 */
export interface ResolvedNodeOptions {
  worker: string;
  /** Undefined: a random id. */
  variant?: string;
  /** One manager, or several (the worker registers with each and merges their topologies). */
  manager: ManagerAddress | ManagerAddress[];
  meshPort: number;
  bindHost?: string;
  advertiseHost?: string;
  allow: string[] | 'anyNode';
  connect: string[];
  publicKey: string;
  /** One key, or a list for a rotation (current first). */
  privateKey: PrivateKeyOption;
  /** Queued broadcasts in Redis when set. */
  redis?: RedisConnectionOption;
  /** Identities with TLS (opt-in). */
  tls?: MeshTlsOptions;
  queue: Required<QueueOptions>;
  timeout: number;
  maxFrameSize: number;
  handshakeTimeout: number;
  maxInFlight: number;
  maxPending: number;
  drainTimeout: number;
  handshakesPerSecond: number;
  maxUnauthenticated: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
}

/** The options both fronts spell alike, by name. */
export const SHARED_NODE_KEYS = [
  'publicKey',
  'privateKey',
  'meshPort',
  'redis',
  'queue',
  'timeout',
  'maxFrameSize',
  'handshakeTimeout',
  'maxInFlight',
  'maxPending',
  'drainTimeout',
  'handshakesPerSecond',
  'maxUnauthenticated',
  'heartbeatInterval',
  'heartbeatTimeout',
  'tls',
] as const;

export const QUEUE_KEYS = ['maxPending', 'attempts', 'backoff'] as const satisfies readonly (keyof QueueOptions)[];

type SharedNodeOptions = Pick<
  ResolvedNodeOptions,
  | 'publicKey'
  | 'privateKey'
  | 'meshPort'
  | 'redis'
  | 'queue'
  | 'timeout'
  | 'maxFrameSize'
  | 'handshakeTimeout'
  | 'maxInFlight'
  | 'maxPending'
  | 'drainTimeout'
  | 'handshakesPerSecond'
  | 'maxUnauthenticated'
  | 'heartbeatInterval'
  | 'heartbeatTimeout'
  | 'tls'
>;

/** Reads the options both fronts share (SHARED_NODE_KEYS), defaults applied. */
export function readSharedNodeOptions(r: OptionReader): SharedNodeOptions {
  const shared: SharedNodeOptions = {
    publicKey: r.requiredString('publicKey'),
    privateKey: r.privateKey(),
    meshPort: r.port('meshPort') ?? DEFAULTS.meshPort,
    queue: readQueueOptions(r),
    timeout: r.positive('timeout') ?? DEFAULTS.timeout,
    maxFrameSize: r.positive('maxFrameSize', true) ?? DEFAULTS.maxFrameSize,
    handshakeTimeout: r.positive('handshakeTimeout') ?? DEFAULTS.handshakeTimeout,
    maxInFlight: r.positive('maxInFlight', true) ?? DEFAULTS.maxInFlight,
    maxPending: r.positive('maxPending', true) ?? DEFAULTS.maxPending,
    drainTimeout: r.number('drainTimeout', { min: 0 }) ?? DEFAULTS.drainTimeout,
    handshakesPerSecond: r.positive('handshakesPerSecond', true) ?? DEFAULTS.handshakesPerSecond,
    maxUnauthenticated: r.positive('maxUnauthenticated', true) ?? DEFAULTS.maxUnauthenticated,
    heartbeatInterval: r.positive('heartbeatInterval', true) ?? DEFAULTS.heartbeatInterval,
    heartbeatTimeout: r.positive('heartbeatTimeout', true) ?? DEFAULTS.heartbeatTimeout,
  };
  const redis = readRedis(r);
  if (redis !== undefined) shared.redis = redis;
  const tls = readTlsOptions(r);
  if (tls !== undefined) shared.tls = tls;
  return shared;
}

/** `queue: { maxPending?, attempts?, backoff? }`, defaults applied. */
export function readQueueOptions(parent: OptionReader): Required<QueueOptions> {
  const r = parent.nested('queue');
  if (r === undefined) return { ...DEFAULTS.queue };
  r.checkKeys(QUEUE_KEYS);
  return {
    maxPending: r.positive('maxPending', true) ?? DEFAULTS.queue.maxPending,
    attempts: r.positive('attempts', true) ?? DEFAULTS.queue.attempts,
    backoff: r.number('backoff', { min: 0 }) ?? DEFAULTS.queue.backoff,
  };
}

/** A `redis://` URL or ioredis options; `''` (an unset environment variable) counts as absent. */
function readRedis(r: OptionReader): RedisConnectionOption | undefined {
  const redis = r.raw('redis');
  if (redis === undefined || redis === '') return undefined;
  if (typeof redis === 'string') return redis;
  if (typeof redis === 'object' && redis !== null && !Array.isArray(redis)) return redis as RedisConnectionOption;
  return r.fail('redis', 'a redis:// URL or ioredis options { host, port, … }');
}
