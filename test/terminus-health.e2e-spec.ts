/**
 * MeshHealthIndicator ('socket-mesh/terminus') in a real Nest app with @nestjs/terminus, its
 * manager and NodeB as separate processes: /health is 503 while NodeB is absent, 200 once it is
 * up, 503 again when it leaves or the manager goes away; Redis queues are PINGed when used.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Broadcast } from '../lib/nest/decorators/broadcast.decorator.js';
import { MeshClient } from '../lib/nest/mesh-client.js';
import { SocketMeshModule } from '../lib/nest/socket-mesh.module.js';
import { MeshHealthIndicator } from '../lib/terminus.js';
import { freePort } from './support/free-port.js';
import { startManager, startWorker, stopAll, TEST_KEYS } from './support/mesh-process.js';
import { REDIS_URL } from './support/redis.js';
import { waitFor } from './support/wait-for.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  await stopAll();
});

interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
}

async function health(path = '/health'): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${await app!.getUrl()}${path}`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

/** A worker app with a /health route, as the README shows it. */
async function startHealthApp(
  worker: string,
  managerPort: number,
  extra: { redis?: string; deadRedis?: string; providers?: unknown[] } = {},
) {
  @Controller('health')
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly mesh: MeshHealthIndicator,
    ) {}

    @Get()
    @HealthCheck()
    check() {
      return this.health.check([() => this.mesh.isHealthy('mesh', { workers: { NodeB: 1 } })]);
    }

    @Get('queues')
    @HealthCheck()
    queues() {
      return this.health.check([() => this.mesh.isHealthy('mesh', { redis: extra.deadRedis, timeout: 500 })]);
    }
  }

  @Module({
    imports: [
      TerminusModule,
      SocketMeshModule.forWorker(worker, {
        manager: { host: '127.0.0.1', port: managerPort },
        connect: ['NodeB'],
        redis: extra.redis,
        ...TEST_KEYS,
      }),
    ],
    controllers: [HealthController],
    providers: [MeshHealthIndicator, ...((extra.providers ?? []) as [])],
  })
  class HealthAppModule {}

  app = await NestFactory.create(HealthAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  await app.get(MeshClient).ready();
}

describe('MeshHealthIndicator', () => {
  it('/health is 503 while NodeB is absent, 200 once it is up, 503 when it leaves or the manager is gone', async () => {
    const manager = await startManager('plain', { port: await freePort() });
    await startHealthApp('NodeA', manager.port);

    const absent = await health();
    expect(absent.status).toBe(503);
    expect(absent.body.error!.mesh).toEqual({
      status: 'down',
      manager: 'up',
      workers: { NodeB: { connected: 0, required: 1 } },
      message: 'NodeB: 0 of 1 instances connected',
    });

    const nodeB = await startWorker('nest', {
      worker: 'NodeB',
      manager: { host: '127.0.0.1', port: manager.port },
      allow: ['NodeA'],
    });
    const up = await waitFor(
      async () => {
        const h = await health();
        return h.status === 200 ? h : undefined;
      },
      10_000,
      '/health to answer 200 with NodeB up',
    );
    expect(up.body).toMatchObject({
      status: 'ok',
      info: { mesh: { status: 'up', manager: 'up', workers: { NodeB: { connected: 1, required: 1 } } } },
    });

    await nodeB.stop();
    const gone = await waitFor(
      async () => ((await health()).status === 503 ? health() : undefined),
      10_000,
      '/health to answer 503 after NodeB left',
    );
    expect(gone.body.error!.mesh).toMatchObject({ workers: { NodeB: { connected: 0, required: 1 } } });

    await manager.kill('SIGKILL');
    const noManager = await waitFor(
      async () => {
        const h = await health();
        return h.body.error?.mesh?.manager === 'down' ? h : undefined;
      },
      10_000,
      "/health to report the manager link 'down'",
    );
    expect(noManager.status).toBe(503);
    expect(noManager.body.error!.mesh!.message).toMatch(/not registered with the manager/);
  });

  it('PINGs Redis when the worker queues there: up with Redis, down with a dead Redis address', async () => {
    @Injectable()
    class Queued {
      @Broadcast({ queued: true })
      ingest() {
        return undefined;
      }
    }
    const manager = await startManager('plain', { port: await freePort() });
    await startHealthApp('NodeQ', manager.port, {
      redis: REDIS_URL,
      deadRedis: `redis://127.0.0.1:${await freePort()}`,
      providers: [Queued],
    });

    const withRedis = await health();
    expect(withRedis.body.error?.mesh ?? withRedis.body.info?.mesh).toMatchObject({ manager: 'up', redis: 'up' });

    const dead = await health('/health/queues');
    expect(dead.status).toBe(503);
    expect(dead.body.error!.mesh).toMatchObject({ status: 'down', redis: 'down', message: expect.stringMatching(/^redis: /) });
  });
});
