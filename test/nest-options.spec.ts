import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { MeshErrorCode } from '../lib/core/errors.js';
import { MeshClient } from '../lib/nest/mesh-client.js';
import type { MeshWorkerHost } from '../lib/nest/mesh-worker.host.js';
import { SocketMeshModule } from '../lib/nest/socket-mesh.module.js';
import { resolveManagerOptions, resolveWorkerOptions } from '../lib/nest/socket-mesh.options.js';

const KEYS = { publicKey: 'pub', privateKey: 'nest-options-private-key-0123456789ab' };
const manager = { host: '127.0.0.1', port: 4000 };

describe('resolveWorkerOptions', () => {
  it('applies the defaults', () => {
    expect(resolveWorkerOptions('NodeA', { manager, ...KEYS })).toEqual({
      worker: 'NodeA',
      manager,
      allow: [],
      connect: [],
      ...KEYS,
      meshPort: 0,
      queue: { maxPending: 10_000, attempts: 3, backoff: 1000 },
      timeout: 10_000,
      maxFrameSize: 1024 * 1024,
      handshakeTimeout: 5000,
      maxInFlight: 4096,
      maxPending: 10_000,
      drainTimeout: 5000,
      handshakesPerSecond: 100,
      maxUnauthenticated: 256,
      heartbeatInterval: 2000,
      heartbeatTimeout: 2500,
    });
  });

  it('keeps the optional settings given, and drops undefined ones (unset env vars)', () => {
    const resolved = resolveWorkerOptions('NodeB', {
      manager: { url: 'http://manager:3000' },
      meshPort: undefined,
      advertiseHost: undefined,
      instanceId: 'b-1',
      allow: 'anyNode',
      connect: ['NodeA', 'NodeA'],
      redis: 'redis://127.0.0.1:6379',
      queue: { maxPending: 5, attempts: 2, backoff: 100 },
      timeout: 500,
      drainTimeout: 0,
      ...KEYS,
    });
    // The core's resolved shape: the Nest option instanceId is the node's variant.
    expect(resolved).toMatchObject({ variant: 'b-1', allow: 'anyNode', connect: ['NodeA'], timeout: 500, drainTimeout: 0 });
    expect(resolved.queue).toEqual({ maxPending: 5, attempts: 2, backoff: 100 });
    expect(resolved.meshPort).toBe(0);
    expect('advertiseHost' in resolved).toBe(false);
  });

  it.each([
    [{ manager }, /forWorker\('NodeA'\): option 'publicKey' is required/],
    [{ manager, ...KEYS, privateKey: '' }, /forWorker\('NodeA'\): option 'privateKey' is too short: at least 32 characters/],
    [{ manager, ...KEYS, privateKey: 'mesh-secret' }, /option 'privateKey' is too short/],
    [
      { manager, ...KEYS, privateKey: 12345678901234 },
      /option 'privateKey' must be a string of at least 32 characters .*value not shown/,
    ],
    [{ manager, ...KEYS, privateKey: [KEYS.privateKey, 'old'] }, /option 'privateKey\[1\]' is too short/],
    [{ manager: { host: 'h' }, ...KEYS }, /option 'manager.port' is required/],
    [{ manager: { host: 'h', port: 0 }, ...KEYS }, /option 'manager.port' must be an integer from 1 to 65535, got 0/],
    [{ manager: { url: 'ftp://x' }, ...KEYS }, /option 'manager.url' must be an http\(s\) URL/],
    [{ manager: { host: 'h', port: 1, extra: 1 }, ...KEYS }, /unknown option 'manager.extra'/],
    [{ manager, ...KEYS, meshPort: -1 }, /option 'meshPort' must be an integer from 0 to 65535, got -1/],
    [{ manager, ...KEYS, meshPort: Number.NaN }, /option 'meshPort'/],
    [{ manager, ...KEYS, timeout: 0 }, /option 'timeout' must be a finite number greater than 0, got 0/],
    [{ manager, ...KEYS, maxFrameSize: 1.5 }, /option 'maxFrameSize' must be an integer greater than 0/],
    [{ manager, ...KEYS, queue: { attempts: 0 } }, /option 'queue.attempts'/],
    [{ manager, ...KEYS, queue: { attemps: 2 } }, /unknown option 'queue.attemps' \(did you mean 'attempts'\?\)/],
    [{ manager, ...KEYS, redis: 6379 }, /option 'redis' must be a redis:\/\/ URL or ioredis options/],
    [{ manager, ...KEYS, connect: 'NodeB' }, /worker 'NodeA': 'connect' must be an array of worker names/],
    [{ manager, ...KEYS, allow: ['anyNode'], conect: [] }, /unknown option 'conect' \(did you mean 'connect'\?\)/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveWorkerOptions('NodeA', options)).toThrow(message);
  });

  it('refuses a bad worker name and a non-object', () => {
    expect(() => resolveWorkerOptions('', { manager, ...KEYS })).toThrow(/worker name must be a non-empty string/);
    expect(() => resolveWorkerOptions('anyNode', { manager, ...KEYS })).toThrow(/reserved/);
    expect(() => resolveWorkerOptions('NodeA', null)).toThrow(/options must be an object, got null/);
  });

  it('throws MESH_SCHEMA_INVALID', () => {
    expect(() => resolveWorkerOptions('NodeA', {})).toThrow(
      expect.objectContaining({ code: MeshErrorCode.SCHEMA_INVALID }) as unknown as Error,
    );
  });
});

describe('resolveManagerOptions', () => {
  it('turns the core discovery server off (the Nest app serves discovery)', () => {
    const defaults = {
      handshakeTimeout: 5000,
      maxFrameSize: 1024 * 1024,
      registrationsPerSecond: 100,
      maxUnauthenticated: 256,
      heartbeatInterval: 2000,
      heartbeatTimeout: 2500,
    };
    expect(resolveManagerOptions({ ...KEYS })).toEqual({ ...KEYS, ...defaults, discoveryPort: false });
    expect(resolveManagerOptions({ ...KEYS, port: 0, host: '0.0.0.0', registrationsPerSecond: 5 })).toEqual({
      ...KEYS,
      ...defaults,
      port: 0,
      host: '0.0.0.0',
      registrationsPerSecond: 5,
      discoveryPort: false,
    });
  });

  it.each([
    [{}, /forManager\(\): option 'publicKey' is required/],
    [{ ...KEYS, port: 70000 }, /option 'port' must be an integer from 0 to 65535/],
    [{ ...KEYS, discoveryPort: 8765 }, /unknown option 'discoveryPort'/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveManagerOptions(options)).toThrow(message);
  });
});

describe('SocketMeshModule async options', () => {
  it('wants exactly one of useFactory, useClass, useExisting', () => {
    expect(() => SocketMeshModule.forWorkerAsync('NodeA', {})).toThrow(/give exactly one of useFactory, useClass or useExisting/);
    expect(() => SocketMeshModule.forManagerAsync({ useFactory: () => KEYS, useExisting: class {} as never })).toThrow(
      /exactly one/,
    );
  });

  it('is a global module exporting MeshClient for workers', () => {
    const worker = SocketMeshModule.forWorker('NodeA', { manager, ...KEYS });
    expect(worker.global).toBe(true);
    expect(worker.exports).toEqual([MeshClient]);
  });
});

describe('MeshClient.node() proxy', () => {
  const calls: unknown[][] = [];
  const fakeNode = { call: async (...args: unknown[]) => (calls.push(args), 'answer') };
  const host = { readyNode: () => fakeNode, timeout: 10_000, node: undefined } as unknown as MeshWorkerHost;
  const client = new MeshClient(host);

  it('turns method calls into call(name, command, payload, options)', async () => {
    const proxy = client.node('NodeB');
    await expect(proxy.status!({ test: 1 }, { timeout: 5 })).resolves.toBe('answer');
    expect(calls.at(-1)).toEqual(['NodeB', 'status', { test: 1 }, { timeout: 5 }]);
  });

  it('is not a thenable, has no symbol keys and cannot be written', async () => {
    const proxy = client.node('NodeB') as unknown as Record<string | symbol, unknown>;
    expect(proxy.then).toBeUndefined();
    expect(proxy[Symbol.asyncIterator]).toBeUndefined();
    expect('status' in proxy).toBe(false);
    expect(Object.keys(proxy)).toEqual([]);
    expect(() => {
      proxy.status = 1;
    }).toThrow(TypeError);
    // eslint-disable-next-line @typescript-eslint/await-thenable -- proves the proxy is not a thenable
    expect(await proxy).toBe(proxy);
  });

  it('a call on a worker whose app never starts fails with MESH_TIMEOUT instead of hanging', async () => {
    const { MeshWorkerHost } = await import('../lib/nest/mesh-worker.host.js');
    const explorer = { explored: new Promise<void>(() => {}), commands: [], listeners: [] };
    const idle = new MeshWorkerHost({ worker: 'NodeA', timeout: 10_000 } as never, explorer as never, {} as never);
    const started = Date.now();
    await expect(new MeshClient(idle).call('NodeB', 'status', {}, { timeout: 50 })).rejects.toMatchObject({
      code: MeshErrorCode.TIMEOUT,
      message: expect.stringMatching(/did not start within 50 ms/),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    await idle.close();
    await expect(new MeshClient(idle).call('NodeB', 'status')).rejects.toMatchObject({ code: MeshErrorCode.CLOSED });
  });

  it('peers() is empty before the node exists', () => {
    expect(client.peers()).toEqual([]);
  });
});
