import type { MeshLogger } from '../logger.js';
import type { QueueBackend } from '../queue/command-queue.js';
import { createLazyRedisQueueBackend } from '../queue/lazy-redis-queue.js';
import { createMemoryQueueBackend } from '../queue/memory-queue.js';
import type { RedisConnectionOption } from '../queue/redis-queue.js';
import type { QueueOptions } from './node-options.js';

/** Where a worker's queued broadcasts may be stored. */
export interface QueueBackendChoice {
  /** The worker's `redis` option. */
  redis?: RedisConnectionOption;
  /** A Redis connection found elsewhere (Nest: `BullModule.forRoot()`), used when `redis` is unset. */
  shared?: { connection: unknown; prefix?: string };
  queue: Required<QueueOptions>;
  logger: MeshLogger;
}

/**
 * The one choice between memory and Redis queues, for both fronts: Redis (loaded lazily) when
 * the worker gives `redis` or a shared connection exists, memory otherwise. The node closes it.
 */
export function createQueueBackend(choice: QueueBackendChoice): QueueBackend {
  const { redis, shared, queue, logger } = choice;
  const retry = { attempts: queue.attempts, backoff: queue.backoff, logger };
  if (redis !== undefined) return createLazyRedisQueueBackend({ redis, ...retry });
  if (shared !== undefined) {
    // BullMQ takes a client or connection options; the core reuses a client, dials options itself.
    const connection = shared.connection;
    const isClient = typeof (connection as { duplicate?: unknown }).duplicate === 'function';
    return createLazyRedisQueueBackend({
      ...(isClient ? { connection } : { redis: connection as RedisConnectionOption }),
      prefix: shared.prefix,
      ...retry,
    });
  }
  return createMemoryQueueBackend({ maxPending: queue.maxPending, logger });
}
