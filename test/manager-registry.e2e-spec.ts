/**
 * The manager's registry as code sees it: the plain Manager's 'registered' / 'unregistered' /
 * 'change' events, and the Nest manager app's injectable MeshRegistry (nodes() and changes$),
 * with real workers on 127.0.0.1.
 */
import 'reflect-metadata';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { Balanced, Manager, MeshRegistry, SocketMeshModule, SocketNode, type RegistryEntry } from '../lib/index.js';
import { recordingLogger } from './support/recording-logger.js';
import { waitForEmit } from './support/wait-for.js';

const KEYS = { publicKey: 'registry-e2e-public-key', privateKey: 'registry-e2e-private-key-0123456789abcdef' };
const LOGGER = ['fatal', 'error'] as const;

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Workers first (pushed last), then the manager.
  for (const close of closers.splice(0).reverse()) await close();
});

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end();
  });
}

function plainNode(port: number): SocketNode {
  const schema = { NodeB: { _allow: [], _connect: [], _commands: { _balanced: { ping: () => 'pong' } } } };
  return new SocketNode({ worker: 'NodeB', schema, ...KEYS, ip: '127.0.0.1', port, hostname: '127.0.0.1', logLevel: 'error' });
}

describe('plain Manager events', () => {
  it("emits 'registered' and 'unregistered' with the registry entry, each followed by 'change'", async () => {
    const manager = new Manager({ ...KEYS, port: 0, host: '127.0.0.1', discoveryPort: false, logger: recordingLogger() });
    closers.push(() => manager.close());
    await manager.ready();
    const seen: string[] = [];
    manager.on('registered', (e) => seen.push(`registered ${e.worker}/${e.variant}`));
    manager.on('unregistered', (e) => seen.push(`unregistered ${e.worker}/${e.variant}`));
    manager.on('change', () => seen.push(`change ${manager.nodes().length}`));

    const registered = waitForEmit<[RegistryEntry]>(manager, 'registered', 10_000);
    const node = plainNode(manager.port);
    let closed = false;
    closers.push(async () => {
      if (!closed) await node.close();
    });
    const [entry] = await registered;
    expect(entry).toEqual({
      worker: 'NodeB',
      variant: expect.any(String),
      host: expect.any(String),
      port: expect.any(Number),
      allow: [],
      connect: [],
      commands: ['ping'],
      registeredAt: expect.any(String),
    });
    expect(manager.nodes()).toEqual([entry]);

    const unregistered = waitForEmit<[RegistryEntry]>(manager, 'unregistered', 10_000);
    await node.close();
    closed = true;
    const [gone] = await unregistered;
    expect(gone).toEqual(entry);
    expect(manager.nodes()).toEqual([]);
    expect(seen).toEqual([`registered NodeB/${entry.variant}`, 'change 1', `unregistered NodeB/${entry.variant}`, 'change 0']);
  });

  it('a listener that throws is logged, and the worker is registered all the same', async () => {
    const logger = recordingLogger();
    const manager = new Manager({ ...KEYS, port: 0, host: '127.0.0.1', discoveryPort: false, logger });
    closers.push(() => manager.close());
    await manager.ready();
    manager.on('registered', () => {
      throw new Error('listener bug');
    });
    const change = waitForEmit(manager, 'change', 10_000);
    const node = plainNode(manager.port);
    closers.push(() => node.close());
    await change;
    await node.ready();
    expect(manager.nodes()).toHaveLength(1);
    expect(logger.at('error').some((l) => l.includes("'registered' listener") && l.includes('listener bug'))).toBe(true);
  });
});

@Injectable()
class BCommands {
  @Balanced()
  ping(): string {
    return 'pong';
  }
}

describe('Nest MeshRegistry', () => {
  it('lists what GET /socket-mesh/nodes lists and streams registrations and departures', async () => {
    @Module({ imports: [SocketMeshModule.forManager({ host: '127.0.0.1', ...KEYS })] })
    class ManagerModule {}
    const app: INestApplication = await NestFactory.create(ManagerModule, { logger: [...LOGGER], abortOnError: false });
    closers.push(() => app.close());
    await app.listen(0, '127.0.0.1');
    const httpPort = ((app.getHttpServer() as Server).address() as AddressInfo).port;
    const registry = app.get(MeshRegistry);
    expect(registry.nodes()).toEqual([]);

    const twoRegistered = firstValueFrom(
      registry.changes$.pipe(
        filter((c) => c.type === 'registered'),
        take(2),
        toArray(),
      ),
    );
    const startWorker = async (instanceId: string): Promise<INestApplicationContext> => {
      @Module({
        imports: [
          SocketMeshModule.forWorker('NodeB', {
            manager: { url: `http://127.0.0.1:${httpPort}` },
            bindHost: '127.0.0.1',
            instanceId,
            ...KEYS,
          }),
        ],
        providers: [BCommands],
      })
      class WorkerModule {}
      const worker = await NestFactory.createApplicationContext(WorkerModule, { logger: [...LOGGER], abortOnError: false });
      closers.push(() => worker.close());
      return worker;
    };
    const b1 = await startWorker('NodeB-1');
    await startWorker('NodeB-2');
    const registered = await twoRegistered;
    expect(registered.map((c) => c.entry.variant).sort()).toEqual(['NodeB-1', 'NodeB-2']);
    expect(registered.every((c) => c.entry.worker === 'NodeB' && c.entry.commands.includes('ping'))).toBe(true);

    const byVariant = (entries: RegistryEntry[]) => [...entries].sort((x, y) => x.variant.localeCompare(y.variant));
    expect(byVariant(registry.nodes())).toEqual(byVariant((await getJson(httpPort, '/socket-mesh/nodes')) as RegistryEntry[]));
    expect(registry.nodes()).toHaveLength(2);

    const departure = firstValueFrom(registry.changes$.pipe(filter((c) => c.type === 'unregistered')));
    await b1.close();
    const gone = await departure;
    expect(gone.entry.variant).toBe('NodeB-1');
    expect(registry.nodes().map((e) => e.variant)).toEqual(['NodeB-2']);
  });

  it('completes changes$ when the manager app closes', async () => {
    @Module({ imports: [SocketMeshModule.forManager({ host: '127.0.0.1', port: 0, ...KEYS })] })
    class ManagerModule {}
    const app = await NestFactory.createApplicationContext(ManagerModule, { logger: [...LOGGER], abortOnError: false });
    const all = firstValueFrom(app.get(MeshRegistry).changes$.pipe(toArray()));
    await app.close();
    await expect(all).resolves.toEqual([]);
  });
});
