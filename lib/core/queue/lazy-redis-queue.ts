import { MeshError, MeshErrorCode } from '../errors.js';
import { silentLogger } from '../logger.js';
import { queueName, type CommandQueue, type QueueBackend } from './command-queue.js';
import type { RedisQueueOptions } from './redis-queue.js';

/**
 * The Redis backend, loaded on first use: BullMQ and ioredis cost a process over half a
 * second of start-up, so only workers that really queue in Redis load them (both fronts call
 * this, never redis-queue.js directly). A queue is usable at once; its requests wait for the
 * load, and fail with MESH_QUEUE_UNAVAILABLE if it fails.
 */
export function createLazyRedisQueueBackend(options: RedisQueueOptions): QueueBackend {
  const logger = options.logger ?? silentLogger;
  let loading: Promise<QueueBackend> | undefined;
  const load = () =>
    (loading ??= import('./redis-queue.js').then(({ createRedisQueueBackend }) => createRedisQueueBackend(options)));
  return {
    kind: 'redis',
    open(target, handler, keys): CommandQueue {
      const name = queueName(target);
      const opened = load().then((backend) => backend.open(target, handler, keys));
      opened.catch((err: unknown) => logger.error(`queue ${name} could not be opened: ${describe(err)}`));
      return {
        name,
        async add(requestId, payload) {
          let queue: CommandQueue;
          try {
            queue = await opened;
          } catch (err) {
            throw new MeshError(MeshErrorCode.QUEUE_UNAVAILABLE, `queue ${name} could not be opened: ${describe(err)}`);
          }
          return queue.add(requestId, payload);
        },
        async close(drainTimeout) {
          const queue = await opened.catch(() => undefined);
          await queue?.close(drainTimeout);
        },
      };
    },
    async close() {
      const backend = await loading?.catch(() => undefined);
      await backend?.close();
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
