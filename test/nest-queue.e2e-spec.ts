/**
 * Queued broadcasts through SocketMeshModule, Nest apps in this Jest process: memory queues by
 * default, Redis (BullMQ) with the `redis` option, and Redis through the app's
 * `BullModule.forRoot()` connection when `redis` is absent. Redis: REDIS_URL, default
 * redis://127.0.0.1:6379; without one (and CI !== 'true') the Redis cases say so loudly and skip.
 */
import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { Redis } from 'ioredis';
import { Balanced, Broadcast, MeshClient, OnMeshEvent, SocketMeshModule, type SocketMeshWorkerOptions } from '../lib/index.js';
import { waitForEmit } from './support/wait-for.js';
import { REDIS_URL, redisAnswers } from './support/redis.js';
import { expectRedisAbsent } from './support/redis-absent.js';

const KEYS = { publicKey: 'nest-queue-public-key', privateKey: 'nest-queue-private-key-0123456789abcdef' };
const LOGGER = ['fatal', 'error', 'warn'] as const;
// Every worker name of this run carries this tag; afterAll deletes their Redis keys.
const TAG = `NestQ${process.pid}x${Date.now().toString(36)}`;

const redisUp = await redisAnswers(REDIS_URL);

interface Ingested {
  id: number;
  start: number;
  end: number;
}

@Injectable()
class QueueCommands extends EventEmitter {
  readonly ingested: Ingested[] = [];

  @Broadcast({ queued: true })
  async ingest({ id, ms }: { id: number; ms: number }) {
    const start = Date.now();
    await delay(ms);
    this.ingested.push({ id, start, end: Date.now() });
    this.emit('ingested');
  }

  @Balanced()
  ping() {
    return 'pong';
  }

  /** Resolves once `count` requests ran here; rejects at the deadline. */
  async ran(count: number, timeoutMs = 10_000): Promise<Ingested[]> {
    if (this.ingested.length < count) await waitForEmit(this, 'ingested', timeoutMs, () => this.ingested.length >= count);
    return this.ingested;
  }
}

@Injectable()
class PeerEvents extends EventEmitter {
  @OnMeshEvent('peer.connected')
  connected() {
    this.emit('peer');
  }
}

function startWorker(name: string, options: SocketMeshWorkerOptions, providers: Type[], imports: DynamicModule[] = []) {
  @Module({ imports: [...imports, SocketMeshModule.forWorker(name, options)], providers })
  class WorkerModule {}
  return NestFactory.createApplicationContext(WorkerModule, { logger: [...LOGGER], abortOnError: false });
}

let manager: INestApplication;
let managerPort: number;
const apps: INestApplicationContext[] = [];

beforeAll(async () => {
  @Module({ imports: [SocketMeshModule.forManager({ host: '127.0.0.1', ...KEYS })] })
  class ManagerModule {}
  manager = await NestFactory.create(ManagerModule, { logger: [...LOGGER], abortOnError: false });
  await manager.init();
  const { ManagerHost } = await import('../lib/nest/manager.host.js');
  managerPort = manager.get(ManagerHost).port;
}, 30_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await manager?.close();
  if (redisUp) {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`bull:socket-mesh.${TAG}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}, 30_000);

/**
 * Two receivers of `worker` (with `options`/`imports`) and a caller; sends three queued
 * requests at once and checks both instances stored each, then ran them one at a time, in order.
 */
async function queuedRoundTrip(worker: string, options: Partial<SocketMeshWorkerOptions> = {}, imports: DynamicModule[] = []) {
  const base = { manager: { host: '127.0.0.1', port: managerPort }, bindHost: '127.0.0.1', ...KEYS };
  const receivers: INestApplicationContext[] = [];
  for (const instanceId of [`${worker}-1`, `${worker}-2`]) {
    const app = await startWorker(
      worker,
      { ...base, instanceId, allow: [`${worker}Caller`], ...options },
      [QueueCommands],
      imports,
    );
    apps.push(app);
    receivers.push(app);
  }
  const caller = await startWorker(`${worker}Caller`, { ...base, connect: [worker] }, [PeerEvents]);
  apps.push(caller);
  const client = caller.get(MeshClient);
  const peerEvents = caller.get(PeerEvents);
  if (client.peers(worker).length < 2) await waitForEmit(peerEvents, 'peer', 10_000, () => client.peers(worker).length === 2);
  await expect(client.call(worker, 'ping')).resolves.toBe('pong');
  const acks = await Promise.all([1, 2, 3].map((id) => client.call(worker, 'ingest', { id, ms: 30 })));
  expect(acks).toEqual([{ queued: 2 }, { queued: 2 }, { queued: 2 }]);
  for (const receiver of receivers) {
    const ran = await receiver.get(QueueCommands).ran(3);
    expect(ran.map((r) => r.id)).toEqual([1, 2, 3]);
    for (let i = 1; i < ran.length; i++) expect(ran[i]!.start).toBeGreaterThanOrEqual(ran[i - 1]!.end);
  }
}

async function redisKeys(worker: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    return await redis.keys(`bull:socket-mesh.${worker}.ingest.*`);
  } finally {
    await redis.quit();
  }
}

describe('SocketMeshModule queued broadcasts', () => {
  it('memory queues by default: { queued: n } once stored, then one at a time, in arrival order', async () => {
    const worker = `${TAG}Mem`;
    await queuedRoundTrip(worker);
    if (redisUp) expect(await redisKeys(worker)).toEqual([]);
  });

  if (redisUp || process.env.CI === 'true') {
    it('the redis option keeps the queues in Redis (BullMQ)', async () => {
      const worker = `${TAG}Redis`;
      await queuedRoundTrip(worker, { redis: REDIS_URL, queue: { attempts: 1 } });
      expect((await redisKeys(worker)).length).toBeGreaterThan(0);
    });

    it("without the redis option, BullModule.forRoot()'s connection is used", async () => {
      const url = new URL(REDIS_URL);
      const bull = BullModule.forRoot({ connection: { host: url.hostname, port: Number(url.port || 6379) } });
      const worker = `${TAG}Bull`;
      await queuedRoundTrip(worker, {}, [bull]);
      expect((await redisKeys(worker)).length).toBeGreaterThan(0);
    });
  } else {
    it('Redis cases not run: nothing listens at REDIS_URL', () =>
      expectRedisAbsent('nest-queue', 'the Redis cases of SocketMeshModule'));
  }
});
