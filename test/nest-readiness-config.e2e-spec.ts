/**
 * Readiness and configuration with real Nest apps and sockets on 127.0.0.1: a call made right
 * after start-up (before the manager's first topology) waits instead of failing,
 * `MeshClient.waitFor`, `forWorkerAsync({ imports, inject, useFactory })` with ConfigService
 * giving the name and numeric-string ports from the environment, and the discovery routes
 * behind `setGlobalPrefix('api')` (followed through the URL, or excluded from the prefix).
 */
import 'reflect-metadata';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Injectable,
  Module,
  type INestApplication,
  type INestApplicationContext,
  type OnApplicationBootstrap,
  type Provider,
  type Type,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Balanced, MeshClient, MeshErrorCode, SocketMeshModule, type PeerDescriptor } from '../lib/index.js';
import { freePort } from './support/free-port.js';
import { waitFor } from './support/wait-for.js';
import { meshError } from './support/mesh-rejection.js';

const KEYS = { publicKey: 'readiness-public-key', privateKey: 'readiness-private-key-0123456789abcdef' };
const LOGGER = ['fatal'] as const;

@Injectable()
class NodeBCommands {
  @Balanced()
  status(payload: { test: string }) {
    return { ok: true, echo: payload.test };
  }
}

/** Calls NodeB the moment the app has started: before this worker even registered. */
@Injectable()
class FirstCaller implements OnApplicationBootstrap {
  peersAtCall: PeerDescriptor[] | undefined;
  first: Promise<unknown> | undefined;
  constructor(private readonly mesh: MeshClient) {}

  onApplicationBootstrap(): void {
    this.peersAtCall = this.mesh.peers('NodeB');
    this.first = this.mesh.call('NodeB', 'status', { test: 'first' }, { timeout: 15_000 });
    this.first.catch(() => undefined);
  }
}

/** A worker whose name, manager URL and mesh port all come from ConfigService (process.env: strings). */
function configuredWorker(envPrefix: string, providers: Provider[]): Type {
  @Module({
    imports: [
      SocketMeshModule.forWorkerAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          name: config.getOrThrow<string>(`${envPrefix}_NAME`),
          manager: { url: config.getOrThrow<string>(`${envPrefix}_MANAGER_URL`) },
          meshPort: config.getOrThrow<string>(`${envPrefix}_MESH_PORT`),
          bindHost: '127.0.0.1',
          allow: ['NodeA'],
          ...KEYS,
        }),
      }),
    ],
    providers,
  })
  class ConfiguredModule {}
  return ConfiguredModule;
}

function plainWorker(name: string, options: Parameters<typeof SocketMeshModule.forWorker>[1], providers: Provider[] = []): Type {
  @Module({ imports: [SocketMeshModule.forWorker(name, options)], providers })
  class WorkerModule {}
  return WorkerModule;
}

function getJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // an error page: keep its text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('readiness and configuration (real Nest apps)', () => {
  const apps: (INestApplicationContext | undefined)[] = [];
  let manager: INestApplication;
  let httpPort: number;
  let nodeBPort: number;
  let nodeA: INestApplicationContext;
  let client: MeshClient;

  beforeAll(async () => {
    @Module({ imports: [SocketMeshModule.forManager({ host: '127.0.0.1', ...KEYS })] })
    class ManagerModule {}
    manager = await NestFactory.create(ManagerModule, { logger: [...LOGGER], abortOnError: false });
    manager.setGlobalPrefix('api');
    await manager.listen(0, '127.0.0.1');
    httpPort = ((manager.getHttpServer() as Server).address() as AddressInfo).port;

    nodeBPort = await freePort();
    process.env.READINESS_B_NAME = 'NodeB';
    process.env.READINESS_B_MANAGER_URL = `http://127.0.0.1:${httpPort}/api`;
    process.env.READINESS_B_MESH_PORT = String(nodeBPort);
    const nodeB = await NestFactory.createApplicationContext(configuredWorker('READINESS_B', [NodeBCommands]), {
      logger: [...LOGGER],
      abortOnError: false,
    });
    apps.push(nodeB);
    await nodeB.get(MeshClient).ready();

    // NodeA starts after NodeB registered: its first call is made before its own first topology.
    nodeA = await NestFactory.createApplicationContext(
      plainWorker(
        'NodeA',
        { manager: { url: `http://127.0.0.1:${httpPort}/api/` }, bindHost: '127.0.0.1', connect: ['NodeB', 'NodeC'], ...KEYS },
        [FirstCaller],
      ),
      { logger: [...LOGGER], abortOnError: false },
    );
    apps.push(nodeA);
    client = nodeA.get(MeshClient);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(apps.map(async (app) => app?.close()));
    await manager?.close();
    for (const key of ['NAME', 'MANAGER_URL', 'MESH_PORT']) delete process.env[`READINESS_B_${key}`];
  }, 30_000);

  it('the discovery routes follow the global prefix', async () => {
    const prefixed = await getJson(httpPort, '/api/socket-mesh/port');
    expect(prefixed.status).toBe(200);
    expect(prefixed.body).toEqual({ port: expect.any(Number) });
    expect((await getJson(httpPort, '/socket-mesh/port')).status).toBe(404);
    const nodes = await getJson(httpPort, '/api/socket-mesh/nodes');
    expect((nodes.body as { worker: string }[]).map((n) => n.worker)).toContain('NodeB');
  });

  it('ConfigService gives the name and a numeric-string mesh port; the worker found the manager via url behind the prefix', async () => {
    const nodes = (await getJson(httpPort, '/api/socket-mesh/nodes')).body as { worker: string; port: number }[];
    const nodeB = nodes.find((n) => n.worker === 'NodeB');
    expect(nodeB?.port).toBe(nodeBPort);
  });

  it('a call made right after start-up, before the first topology, waits for it and succeeds', async () => {
    const caller = nodeA.get(FirstCaller);
    expect(caller.peersAtCall).toEqual([]);
    await expect(caller.first).resolves.toEqual({ ok: true, echo: 'first' });
  });

  it('waitFor resolves with the connected instances', async () => {
    const peers = await client.waitFor('NodeB', { timeout: 10_000 });
    expect(peers).toEqual([{ worker: 'NodeB', variant: expect.any(String), host: '127.0.0.1', port: nodeBPort }]);
  });

  it('waitFor rejects with MESH_TIMEOUT when fewer instances connect in time', async () => {
    const started = Date.now();
    const err = await meshError(client.waitFor('NodeB', { timeout: 300, instances: 2 }));
    expect(err.code).toBe(MeshErrorCode.TIMEOUT);
    expect(err.message).toMatch(/1 of 2 instances of 'NodeB' connected after 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('waitFor refuses bad options and workers outside the connect list', async () => {
    expect((await meshError(client.waitFor('NodeB', { timeout: -1 }))).code).toBe(MeshErrorCode.BAD_REQUEST);
    expect((await meshError(client.waitFor('NodeB', { instances: 0 }))).code).toBe(MeshErrorCode.BAD_REQUEST);
    const denied = await meshError(client.waitFor('NodeX', { timeout: 100 }));
    expect(denied.code).toBe(MeshErrorCode.ACCESS_DENIED);
  });

  it('waitFor waits for a worker that starts later, and a call after it succeeds', async () => {
    const waiting = client.waitFor('NodeC', { timeout: 15_000 });
    let settled = false;
    void waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    @Injectable()
    class NodeCCommands {
      @Balanced()
      hello() {
        return 'from C';
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    const nodeC = await NestFactory.createApplicationContext(
      plainWorker(
        'NodeC',
        { manager: { url: `http://127.0.0.1:${httpPort}/api` }, bindHost: '127.0.0.1', allow: ['NodeA'], ...KEYS },
        [NodeCCommands],
      ),
      { logger: [...LOGGER], abortOnError: false },
    );
    apps.push(nodeC);
    const peers = await waiting;
    expect(peers.map((p) => p.worker)).toEqual(['NodeC']);
    await expect(client.call('NodeC', 'hello')).resolves.toBe('from C');
  });

  it('a manager whose prefix excludes the discovery routes is found with a url without the prefix (its port a string from ConfigService)', async () => {
    const socketPort = await freePort();
    process.env.READINESS_M_PORT = String(socketPort);
    @Module({
      imports: [
        SocketMeshModule.forManagerAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            host: '127.0.0.1',
            port: config.getOrThrow<string>('READINESS_M_PORT'),
            ...KEYS,
          }),
        }),
      ],
    })
    class ExcludedManagerModule {}
    const other = await NestFactory.create(ExcludedManagerModule, { logger: [...LOGGER], abortOnError: false });
    other.setGlobalPrefix('api', { exclude: ['socket-mesh/{*path}'] });
    await other.listen(0, '127.0.0.1');
    try {
      const port = ((other.getHttpServer() as Server).address() as AddressInfo).port;
      expect(await getJson(port, '/socket-mesh/port')).toEqual({ status: 200, body: { port: socketPort } });
      const worker = await NestFactory.createApplicationContext(
        plainWorker('NodeD', { manager: { url: `http://127.0.0.1:${port}` }, bindHost: '127.0.0.1', ...KEYS }),
        { logger: [...LOGGER], abortOnError: false },
      );
      try {
        await worker.get(MeshClient).ready();
        const nodes = (await getJson(port, '/socket-mesh/nodes')).body as { worker: string }[];
        expect(nodes.map((n) => n.worker)).toEqual(['NodeD']);
      } finally {
        await worker.close();
      }
    } finally {
      await other.close();
      delete process.env.READINESS_M_PORT;
    }
  });

  it('forWorkerAsync({ useFactory }) without a name in the answer fails at start, saying so', async () => {
    @Module({
      imports: [
        SocketMeshModule.forWorkerAsync({ useFactory: () => ({ manager: { host: '127.0.0.1', port: 1 }, ...KEYS }) as never }),
      ],
    })
    class NamelessModule {}
    const failure = NestFactory.createApplicationContext(NamelessModule, { logger: false, abortOnError: false });
    await expect(failure).rejects.toThrow(/forWorkerAsync\(\): the factory must return the worker's 'name'/);
  });

  it('logs through Nest: one line at start, one when draining starts and one when it ends', async () => {
    const lines: string[] = [];
    const record = (message: unknown) => void lines.push(String(message));
    const logger = { log: record, error: record, warn: record, debug: record, verbose: record, fatal: record };
    const app = await NestFactory.createApplicationContext(
      plainWorker('NodeE', { manager: { url: `http://127.0.0.1:${httpPort}/api` }, bindHost: '127.0.0.1', ...KEYS }),
      { logger, abortOnError: false },
    );
    let closed = false;
    try {
      await app.get(MeshClient).ready();
      expect(lines.filter((l) => l.startsWith('started worker NodeE'))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^started worker NodeE, variant \\S+, mesh port \\d+, manager http://127.0.0.1:${httpPort}/api, queue backend none \\(no queued command\\)$`,
          ),
        ),
      ]);
      await app.close();
      closed = true;
      expect(lines.some((l) => /^NodeE\/\S+ draining: 0 request\(s\) running$/.test(l))).toBe(true);
      expect(lines.some((l) => /^NodeE\/\S+ drained and closed in \d+ (ms|s)$/.test(l))).toBe(true);
    } finally {
      if (!closed) await app.close();
    }
  });

  it('a worker whose url misses the prefix logs the 404 with a hint about the prefix', async () => {
    const lines: string[] = [];
    const record = (message: unknown) => void lines.push(String(message));
    const logger = { log: record, error: record, warn: record, debug: record, verbose: record, fatal: record };
    const app = await NestFactory.createApplicationContext(
      plainWorker('NodeF', { manager: { url: `http://127.0.0.1:${httpPort}` }, bindHost: '127.0.0.1', ...KEYS }),
      { logger, abortOnError: false },
    );
    try {
      const line = await waitFor(() => lines.find((l) => l.includes('/socket-mesh/port answered 404')), 10_000, 'the 404 line');
      expect(line).toContain(
        `manager not reachable: GET http://127.0.0.1:${httpPort}/socket-mesh/port answered 404 (behind app.setGlobalPrefix()? put the prefix in the url`,
      );
    } finally {
      await app.close();
    }
  });
});
