import type { MeshKeys } from '../crypto/mesh-keys.js';
import type { JobTrace } from '../telemetry/trace-slot.js';

/** Runs one queued request; its return value is not sent anywhere (the caller was answered at storage time). */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- says a handler may be sync or async
export type QueueHandler = (payload: unknown, job?: JobTrace) => Promise<unknown> | unknown;

/** Which queue: each instance (variant) of a worker has its own queue per queued command. */
export interface QueueTarget {
  worker: string;
  command: string;
  variant: string;
}

/** The receiving instance's queue for one queued broadcast command. */
export interface CommandQueue {
  readonly name: string;
  /**
   * Resolves once stored (memory: accepted in the bounded buffer; Redis: job written to Redis).
   * Rejects MeshError QUEUE_FULL (memory bound), QUEUE_UNAVAILABLE (Redis down: fail fast, no
   * hang), CLOSED (after close). A second `add` with an id that is still stored is acknowledged
   * but not stored twice (Redis: only for a request stored on its own, not one that shared a
   * job with others of its frame, see redis-batch.ts). The mesh does not rely on this: it gives every delivery its own id and
   * never redelivers a queued request itself, so a caller that calls again (after a timeout, a
   * dropped link) stores a second request: queued broadcasts are at least once, not exactly once.
   */
  add(requestId: string, payload: unknown, job?: JobTrace): Promise<void>;
  /** Requests stored and not yet started, for the `socket_mesh.queue.waiting` gauge (undefined: not known synchronously). */
  waitingCount?(): number;
  /** Stop taking new requests, let the running job finish (bounded by `drainTimeout` ms), release every handle. */
  close(drainTimeout?: number): Promise<void>;
}

export interface QueueBackend {
  readonly kind: 'memory' | 'redis';
  /**
   * One queue per (worker, command, variant); the handler runs one job at a time. `keys`: the
   * node's mesh keys, which a backend that stores outside the process (Redis) seals payloads with.
   */
  open(target: QueueTarget, handler: QueueHandler, keys?: MeshKeys): CommandQueue;
  /** Closes every queue it opened and its connections. */
  close(): Promise<void>;
}

/**
 * `socket-mesh.${worker}.${command}.${variant}`. BullMQ refuses ':' in queue names (it is its
 * key separator), so any ':' (an IPv6 host in a variant, say) becomes '_'.
 */
export function queueName(target: QueueTarget): string {
  return `socket-mesh.${target.worker}.${target.command}.${target.variant}`.replaceAll(':', '_');
}
