import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';

/** The Redis the queue suites use (DESIGN §8). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when a Redis answers PING at `url` within a second; never throws, never retries. */
export async function redisAnswers(url: string = REDIS_URL): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * A throwaway redis-server (no persistence) on `port`, for outage tests. It is added to
 * `registry` so the suite's afterAll can stop whatever is left; a server that never gets ready
 * is stopped before the error is thrown.
 */
export async function startRedisServer(port: number, registry: Set<ChildProcess>): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  registry.add(server);
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready within 10 s: ${output}`)), 10_000);
      server.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${port} exited with ${String(code)}: ${output}`));
      });
    });
  } catch (err) {
    await stopRedisServer(server, registry);
    throw err;
  }
  return server;
}

/** Kills a throwaway redis-server and waits for it to exit. */
export async function stopRedisServer(server: ChildProcess, registry: Set<ChildProcess>): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  }
  server.stdout?.destroy();
  server.stderr?.destroy();
  registry.delete(server);
}
