/** Redis for the queued-redis rows: is it there, and removing the run's keys afterwards. */
import { Redis } from 'ioredis';

function client(host: string, port: number): Redis {
  return new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
}

/** The server's version when Redis answers PING within a second, else undefined. */
export async function probeRedis(host: string, port: number): Promise<string | undefined> {
  const redis = client(host, port);
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix:` (the run's BullMQ queues); returns how many. */
export async function deletePrefix(host: string, port: number, prefix: string): Promise<number> {
  const redis = client(host, port);
  redis.on('error', () => {});
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
