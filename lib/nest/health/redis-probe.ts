import type { Redis, RedisOptions } from 'ioredis';

/**
 * One Redis connection kept for health probes, opened on the first probe (ioredis is loaded
 * only then). It reconnects by itself; a probe waits for the connection within its timeout.
 */
export class RedisProbe {
  private client: Promise<Redis> | undefined;
  private lastError: string | undefined;

  constructor(private readonly target: string | RedisOptions) {}

  /** Resolves when PING answers within `timeoutMs`, else rejects with the reason. */
  async ping(timeoutMs: number): Promise<void> {
    const client = await (this.client ??= this.connect());
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const why = client.status === 'ready' ? 'no PONG' : `not connected (${this.lastError ?? client.status})`;
        reject(new Error(`${why} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      // The first probe (or one during a reconnect) waits for the connection, within the same deadline.
      if (client.status !== 'ready')
        await Promise.race([new Promise<void>((resolve) => client.once('ready', (onReady = resolve))), deadline]);
      await Promise.race([client.ping(), deadline]);
    } finally {
      clearTimeout(timer);
      if (onReady) client.off('ready', onReady);
    }
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    client?.disconnect();
  }

  private async connect(): Promise<Redis> {
    const { Redis } = await import('ioredis');
    const common: RedisOptions = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'socket-mesh-health',
      retryStrategy: (times) => Math.min(times * 200, 2000),
    };
    const client = typeof this.target === 'string' ? new Redis(this.target, common) : new Redis({ ...this.target, ...common });
    // The probe reports it; no unhandled 'error' events.
    client.on('error', (err: Error) => (this.lastError = err.message));
    client.on('ready', () => (this.lastError = undefined));
    return client;
  }
}
