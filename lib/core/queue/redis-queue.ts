import type { MeshKeys } from '../crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../errors.js';
import { silentLogger, type MeshLogger } from '../logger.js';
import { type CommandQueue, type QueueBackend, type QueueHandler, type QueueTarget, queueName } from './command-queue.js';
import { ownClients, sharedClients, type RedisClients, type RedisTarget } from './redis-clients.js';
import { RedisCommandQueue } from './redis-command-queue.js';
import { RedisOutage } from './redis-outage.js';
import { payloadSealer } from './sealed-payload.js';

export type RedisConnectionOption =
  string /* redis:// URL */ | { host?: string; port?: number; [k: string]: unknown }; /* ioredis options */

export interface RedisQueueOptions {
  redis?: RedisConnectionOption;
  /** An existing ioredis client to reuse (e.g. from @nestjs/bullmq BullModule.forRoot); duplicated for blocking workers as BullMQ requires. */
  connection?: unknown;
  /** Runs of a job whose handler throws, the first included. Default 3. */
  attempts?: number;
  /** ms before the first retry, doubling at each further one. Default 1000. */
  backoff?: number;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
  logger?: MeshLogger;
  /** Mesh keys to seal payloads at rest with, when `open` is not given any (a node gives its own). */
  keys?: MeshKeys;
}

/**
 * Queues in Redis through BullMQ: at-least-once, and a restart of the same instance (variant)
 * resumes what was stored and not completed, the job a crash interrupted included.
 * Connections are opened with the first queue.
 */
export function createRedisQueueBackend(options: RedisQueueOptions = {}): QueueBackend {
  const attempts = options.attempts ?? 3;
  const backoff = options.backoff ?? 1_000;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new TypeError(`attempts must be a positive integer, got ${String(attempts)}`);
  }
  if (!Number.isFinite(backoff) || backoff < 0) {
    throw new TypeError(`backoff must be a number of ms >= 0, got ${String(backoff)}`);
  }
  if (options.redis !== undefined && options.connection !== undefined) {
    throw new TypeError('give the Redis queues either `redis` or `connection`, not both');
  }
  const prefix = options.prefix ?? 'bull';
  const logger = options.logger ?? silentLogger;
  const outage = new RedisOutage(logger, 'socket-mesh queues');
  const queues = new Map<string, RedisCommandQueue>();
  let clients: RedisClients | undefined;
  let closing: Promise<void> | undefined;

  const connect = (): RedisClients =>
    options.connection !== undefined
      ? sharedClients(options.connection, outage)
      : ownClients((options.redis ?? {}) as RedisTarget, outage);

  return {
    kind: 'redis',
    open(target: QueueTarget, handler: QueueHandler, keys?: MeshKeys): CommandQueue {
      if (closing) throw new MeshError(MeshErrorCode.CLOSED, 'the Redis queue backend is closed');
      const sealWith = keys ?? options.keys;
      // Never plain JSON in Redis: without keys there is nothing to seal with.
      if (!sealWith) throw new TypeError('the Redis queue backend needs the mesh keys to seal payloads at rest');
      const name = queueName(target);
      // Two workers on one target would run its requests two at a time.
      if (queues.has(name)) throw new Error(`queue ${name} is already open`);
      clients ??= connect();
      const queue = new RedisCommandQueue(name, target, handler, {
        clients,
        prefix,
        attempts,
        backoff,
        logger,
        outage,
        sealer: payloadSealer(sealWith),
        onClosed: () => queues.delete(name),
      });
      queues.set(name, queue);
      return queue;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...queues.values()].map((queue) => queue.close()));
        await clients?.close();
      })();
      return closing;
    },
  };
}
