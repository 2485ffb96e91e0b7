import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { didYouMean, suggestName } from '../../lib/core/names.js';
import { DEFAULTS } from '../../lib/core/options/defaults.js';
import { resolveManagerOptions as resolvePlainManager } from '../../lib/core/options/manager-options.js';
import { resolveSocketNodeOptions } from '../../lib/core/options/socket-node-options.js';
import type { MeshSchema } from '../../lib/core/schema.js';
import { resolveWorkerOptions } from '../../lib/nest/socket-mesh.options.js';

const KEYS = { publicKey: 'pub', privateKey: 'options-spec-private-key-0123456789abc' };
const schema: MeshSchema = { NodeA: { _connect: ['NodeB'] }, NodeB: { _allow: ['NodeA'] } };
const plain = (extra: Record<string, unknown>) =>
  resolveSocketNodeOptions({ worker: 'NodeA', schema, ...KEYS, port: 4000, ...extra });
const nest = (extra: Record<string, unknown>) =>
  resolveWorkerOptions('NodeA', { manager: { host: 'h', port: 4000 }, connect: ['NodeB'], ...KEYS, ...extra });

function refusal(run: () => unknown): MeshError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError);
    return err as MeshError;
  }
  throw new Error('expected a MeshError');
}

describe('one options layer for both fronts', () => {
  it('gives both fronts the same resolved shape and defaults', () => {
    const fromPlain = plain({}).node;
    const fromNest = nest({});
    for (const key of [
      'timeout',
      'maxFrameSize',
      'handshakeTimeout',
      'maxInFlight',
      'maxPending',
      'drainTimeout',
      'meshPort',
      'queue',
    ] as const) {
      expect(fromPlain[key]).toEqual(fromNest[key]);
    }
    expect(fromPlain).toMatchObject({
      worker: 'NodeA',
      connect: ['NodeB'],
      timeout: DEFAULTS.timeout,
      maxFrameSize: 1024 * 1024,
    });
    expect(fromPlain.queue).toEqual({ maxPending: 10_000, attempts: 3, backoff: 1000 });
  });

  it.each([
    ['timeout', 0],
    ['maxFrameSize', 1.5],
    ['handshakeTimeout', -1],
    ['maxInFlight', 'many'],
    ['maxPending', 0],
    ['drainTimeout', -5],
    ['meshPort', 70000],
    ['redis', 6379],
  ])('refuses %s = %j with the same MESH_SCHEMA_INVALID in both fronts', (field, value) => {
    const a = refusal(() => plain({ [field]: value }));
    const b = refusal(() => nest({ [field]: value }));
    expect(a.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(b.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    const detail = (m: string) => m.slice(m.indexOf(`option '${field}'`));
    expect(detail(a.message)).toBe(detail(b.message));
    expect(a.message).toMatch(`new SocketNode('NodeA'): option '${field}'`);
    expect(b.message).toMatch(`SocketMeshModule.forWorker('NodeA'): option '${field}'`);
  });

  it('accepts numeric-string ports in both fronts', () => {
    expect(plain({ meshPort: '4100', port: '4000' }).node).toMatchObject({
      meshPort: 4100,
      manager: { host: '127.0.0.1', port: 4000 },
    });
    expect(nest({ meshPort: '4100', manager: { host: 'h', port: '4000' } })).toMatchObject({
      meshPort: 4100,
      manager: { host: 'h', port: 4000 },
    });
    expect(refusal(() => plain({ meshPort: '41x' })).message).toMatch(
      /option 'meshPort' must be an integer from 0 to 65535, got a string/,
    );
  });

  it('gives the plain API the queue options of Nest (queue: { maxPending, attempts, backoff })', () => {
    expect(plain({ queue: { maxPending: 5, attempts: 2, backoff: 0 } }).node.queue).toEqual({
      maxPending: 5,
      attempts: 2,
      backoff: 0,
    });
    expect(refusal(() => plain({ queue: { attempts: 0 } })).message).toMatch(
      /option 'queue.attempts' must be an integer greater than 0/,
    );
    expect(refusal(() => plain({ queue: { atempts: 2 } })).message).toMatch(
      /unknown option 'queue.atempts' \(did you mean 'attempts'\?\)/,
    );
  });

  it('refuses unknown plain-API keys with a near-miss hint, as Nest does', () => {
    expect(refusal(() => plain({ timout: 5 })).message).toMatch(
      /new SocketNode\('NodeA'\): unknown option 'timout' \(did you mean 'timeout'\?\)/,
    );
    expect(refusal(() => nest({ timout: 5 })).message).toMatch(/unknown option 'timout' \(did you mean 'timeout'\?\)/);
    expect(refusal(() => plain({ instanceId: 'x' })).message).toMatch(/unknown option 'instanceId'/);
  });

  it('refuses bad plain callbacks, logger and logLevel with MESH_SCHEMA_INVALID naming the field', () => {
    expect(refusal(() => plain({ onConnection: 'yes' })).message).toMatch(
      /option 'onConnection' must be a function, got a string/,
    );
    expect(refusal(() => plain({ logLevel: 'loud' })).message).toMatch(/option 'logLevel' must be one of trace/);
    expect(refusal(() => plain({ logger: {} })).message).toMatch(/option 'logger' must be an object with trace, debug/);
    expect(refusal(() => resolveSocketNodeOptions(null)).message).toMatch(/options must be an object, got null/);
  });

  it('maps the plain names onto the core shape (variant, hostname → advertiseHost, ip/port/discoveryPort → manager)', () => {
    expect(plain({ variant: 'a-1', hostname: '10.0.0.5', ip: 'm' }).node).toMatchObject({
      variant: 'a-1',
      advertiseHost: '10.0.0.5',
      manager: { host: 'm', port: 4000 },
    });
    expect(resolveSocketNodeOptions({ worker: 'NodeA', schema, ...KEYS, ip: '::1' }).node.manager).toEqual({
      url: 'http://[::1]:8765',
    });
    expect(resolveSocketNodeOptions({ worker: 'NodeA', schema, ...KEYS, discoveryPort: '9000' }).node.manager).toEqual({
      url: 'http://127.0.0.1:9000',
    });
  });

  it('checks the plain Manager through the same engine', () => {
    expect(resolvePlainManager({ ...KEYS })).toMatchObject({
      discoveryPort: undefined,
      handshakeTimeout: 5000,
      maxFrameSize: 1024 * 1024,
      logLevel: 'info',
    });
    expect(resolvePlainManager({ ...KEYS, port: '3000', discoveryPort: false })).toMatchObject({
      port: 3000,
      discoveryPort: false,
    });
    const err = refusal(() => resolvePlainManager({ ...KEYS, prot: 3000 }));
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toMatch(/new Manager\(\): unknown option 'prot' \(did you mean 'port'\?\)/);
  });
});

describe("shared schema with other workers' commands left null", () => {
  const shared = {
    NodeA: { _connect: ['NodeB'], _commands: { _balanced: { ping: () => 'pong' } } },
    NodeB: { _allow: ['NodeA'], _commands: { _balanced: { status: null }, _broadcast: { collect: null } } },
  } as unknown as MeshSchema;

  it('is accepted by the node running another worker', () => {
    const resolved = resolveSocketNodeOptions({ worker: 'NodeA', schema: shared, ...KEYS, port: 1 });
    expect(Object.keys(resolved.workers.get('NodeB')!.commands)).toEqual(['status', 'collect']);
  });

  it("fails naming the command when it is null in the node's own worker", () => {
    const err = refusal(() => resolveSocketNodeOptions({ worker: 'NodeB', schema: shared, ...KEYS, port: 1 }));
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toMatch(/worker 'NodeB': command 'status': is null, but this process runs 'NodeB'/);
  });
});

describe('name helpers', () => {
  it('never suggests another name when the name is itself defined', () => {
    expect(suggestName('NodeB', ['NodeA', 'NodeB'])).toBeUndefined();
    expect(didYouMean('NodeB', ['NodeA', 'NodeB'])).toBe('');
    expect(didYouMean('nodeB', ['NodeA', 'NodeB'])).toBe(" (did you mean 'NodeB'?)");
  });
});
