import { Redis, type RedisOptions } from 'ioredis';
import { settlesWithin, within } from './deadline.js';
import type { RedisOutage } from './redis-outage.js';

/** Where a backend's own connections go: a redis:// URL or ioredis options. */
export type RedisTarget = string | RedisOptions;

/** The connections of one Redis queue backend, whoever created them. */
export interface RedisClients {
  /** Stores jobs (Queue.add) for every queue of the backend. Fails fast while Redis is down. */
  readonly producer: Redis;
  /** A connection of its own for one BullMQ Worker; the caller closes it. */
  workerConnection(): WorkerConnection;
  /** Ends the producer when the backend created it; a caller's client stays open. */
  close(): Promise<void>;
}

/**
 * A Worker's connection. Its commands wait out an outage (BullMQ requires
 * `maxRetriesPerRequest: null`); BullMQ duplicates it for the Worker's blocking reads.
 */
export interface WorkerConnection {
  readonly client: Redis;
  close(): Promise<void>;
}

/** How long a connection that is still connecting may delay an `add` before it is refused. */
const CONNECT_WAIT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;
/** Bound on QUIT at shutdown before the socket is simply dropped. */
const QUIT_WAIT_MS = 1_000;

/** Retry without end, quickly: an outage ends when Redis answers again, not when a retry budget runs out. */
function reconnectDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 5), MAX_RECONNECT_DELAY_MS);
}

const PRODUCER_OPTIONS: RedisOptions = {
  // A command while disconnected fails at once instead of waiting in ioredis' offline queue.
  enableOfflineQueue: false,
  // A command in flight when the connection drops fails instead of being resent after a reconnect.
  maxRetriesPerRequest: 0,
  connectTimeout: CONNECT_TIMEOUT_MS,
  retryStrategy: reconnectDelay,
  // No auto-pipelining: ioredis sends the first script call of every pipeline as EVAL with the
  // whole Lua text (BullMQ's addStandardJob is 26 KB), since it tracks loaded scripts per
  // pipeline; each add goes as a plain EVALSHA instead.
};

const WORKER_OPTIONS: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  connectTimeout: CONNECT_TIMEOUT_MS,
};

/** Connections the backend creates and owns, from a URL or ioredis options. */
export function ownClients(target: RedisTarget, outage: RedisOutage): RedisClients {
  const producer =
    typeof target === 'string' ? new Redis(target, PRODUCER_OPTIONS) : new Redis({ ...target, ...PRODUCER_OPTIONS });
  // The listeners stay: an error emitted while the socket winds down still has one.
  watch(producer, outage, 'producer connection');
  return {
    producer,
    workerConnection: () => workerConnection(producer, outage),
    close: () => closeClient(producer),
  };
}

/**
 * A caller's ioredis client (e.g. the one @nestjs/bullmq's BullModule.forRoot made): it stores
 * jobs as it is and stays the caller's to close; each Worker gets a duplicate with the options
 * BullMQ requires, which the backend owns.
 */
export function sharedClients(connection: unknown, outage: RedisOutage): RedisClients {
  if (!isIORedisClient(connection)) {
    throw new TypeError('connection must be an ioredis client (an object with duplicate(), on(), quit() and status)');
  }
  const producer = connection;
  const unwatch = watch(producer, outage, 'shared connection');
  return {
    producer,
    workerConnection: () => workerConnection(producer, outage),
    async close() {
      unwatch();
    },
  };
}

function workerConnection(base: Redis, outage: RedisOutage): WorkerConnection {
  const client = base.duplicate({ ...WORKER_OPTIONS, retryStrategy: reconnectDelay });
  watch(client, outage, 'worker connection');
  return { client, close: () => closeClient(client) };
}

/**
 * Resolves when `client` can take a command now. Rejects at once when it is known to be down
 * (between reconnect attempts) and after CONNECT_WAIT_MS when it is still connecting: an `add`
 * must answer quickly, never wait for Redis to come back.
 */
export async function whenUsable(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') client.connect().catch(() => {});
  if (client.status !== 'connecting' && client.status !== 'connect') {
    throw new Error(`Redis connection is ${client.status}: not usable`);
  }
  let off = (): void => {};
  const ready = new Promise<void>((resolve, reject) => {
    const onReady = (): void => resolve();
    const onClose = (): void => reject(new Error('Redis connection closed while connecting: not usable'));
    client.once('ready', onReady);
    client.once('close', onClose);
    client.once('end', onClose);
    off = () => {
      client.off('ready', onReady);
      client.off('close', onClose);
      client.off('end', onClose);
    };
  });
  try {
    await within(ready, CONNECT_WAIT_MS, () => new Error(`Redis not ready within ${CONNECT_WAIT_MS} ms: not usable`));
  } finally {
    off();
  }
}

/** Ends `client`, politely when it is connected; never waits longer than QUIT_WAIT_MS per step. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') await settlesWithin(client.quit(), QUIT_WAIT_MS);
  // Read afresh: QUIT may have ended the connection meanwhile.
  const status: string = client.status;
  if (status === 'end') return;
  // Between reconnect attempts there is no socket left: disconnect() only cancels the retry
  // timer, and ioredis emits no 'end' to wait for.
  const ended =
    status === 'reconnecting'
      ? Promise.resolve()
      : settlesWithin(new Promise<void>((resolve) => client.once('end', () => resolve())), QUIT_WAIT_MS);
  client.disconnect();
  await ended;
}

/** Routes `client`'s errors and reconnects to the outage log; ioredis would print unheard errors itself. */
function watch(client: Redis, outage: RedisOutage, context: string): () => void {
  const onError = (err: unknown): void => outage.report(err, context);
  const onReady = (): void => outage.recovered();
  client.on('error', onError);
  client.on('ready', onReady);
  return () => {
    client.off('error', onError);
    client.off('ready', onReady);
  };
}

function isIORedisClient(value: unknown): value is Redis {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { duplicate?: unknown; on?: unknown; quit?: unknown; status?: unknown; options?: unknown };
  return (
    typeof candidate.duplicate === 'function' &&
    typeof candidate.on === 'function' &&
    typeof candidate.quit === 'function' &&
    typeof candidate.status === 'string' &&
    typeof candidate.options === 'object'
  );
}
