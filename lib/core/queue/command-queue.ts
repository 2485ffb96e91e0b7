/** Runs one queued request; its return value is not sent anywhere (the caller was answered at storage time). */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- says a handler may be sync or async
export type QueueHandler = (payload: unknown) => Promise<unknown> | unknown;

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
   * hang), CLOSED (after close). `requestId` is unique per request: a duplicate delivery of a
   * request that is still stored is acknowledged again but not stored twice.
   */
  add(requestId: string, payload: unknown): Promise<void>;
  /** Stop taking new requests, let the running job finish (bounded by `drainTimeout` ms), release every handle. */
  close(drainTimeout?: number): Promise<void>;
}

export interface QueueBackend {
  readonly kind: 'memory' | 'redis';
  /** One queue per (worker, command, variant); the handler runs one job at a time. */
  open(target: QueueTarget, handler: QueueHandler): CommandQueue;
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
