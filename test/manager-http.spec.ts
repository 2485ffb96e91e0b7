/**
 * The manager's HTTP layer without processes: the topology view derived from the registry's
 * rights, the bearer-token check, and the option checks of both fronts. Real servers on
 * 127.0.0.1 where a server is involved.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { isAuthorized, validateHttpAuth } from '../lib/core/manager-http/http-auth.js';
import { buildTopologyView } from '../lib/core/manager-http/topology-view.js';
import { Manager } from '../lib/core/manager.js';
import { MeshError } from '../lib/core/errors.js';
import type { RegistryEntry } from '../lib/core/manager/registry.js';
import { resolveManagerOptions } from '../lib/nest/socket-mesh.options.js';
import { TEST_KEYS } from './support/mesh-process.js';

const entry = (worker: string, variant: string, allow: RegistryEntry['allow'], connect: string[]): RegistryEntry => ({
  worker,
  variant,
  host: '127.0.0.1',
  port: 1000,
  allow,
  connect,
  commands: ['status'],
  registeredAt: '2026-01-01T00:00:00.000Z',
});

describe('topology view', () => {
  it('links a worker to another only when its connect names it and the other allows it', () => {
    const view = buildTopologyView(
      [
        entry('NodeB', 'b2', ['NodeA'], []),
        entry('NodeA', 'a1', [], ['NodeB', 'NodeC', 'NodeD']),
        entry('NodeB', 'b1', ['NodeA'], []),
        entry('NodeC', 'c1', 'anyNode', ['NodeA']), // NodeA's allow is empty: no C→A
        entry('NodeD', 'd1', ['NodeX'], []), // D does not allow A
      ],
      new Date('2026-02-02T00:00:00Z'),
    );
    expect(view.at).toBe('2026-02-02T00:00:00.000Z');
    expect(view.links).toEqual([
      { from: 'NodeA', to: 'NodeB' },
      { from: 'NodeA', to: 'NodeC' },
    ]);
    expect(view.instances.map((i) => i.variant)).toEqual(['a1', 'b1', 'b2', 'c1', 'd1']);
    expect(view.workers.map((w) => [w.name, w.instances])).toEqual([
      ['NodeA', 1],
      ['NodeB', 2],
      ['NodeC', 1],
      ['NodeD', 1],
    ]);
    expect(view.reportedLinks).toEqual([]);
  });

  it('resolves reported links to worker names and leaves out instances no longer registered', () => {
    const entries = [
      entry('NodeA', 'a1', [], ['NodeB']),
      entry('NodeB', 'b2', ['NodeA'], []),
      entry('NodeB', 'b1', ['NodeA'], []),
    ];
    const view = buildTopologyView(entries, new Date(), [
      [
        'a1',
        [
          ['b2', 'leaving'],
          ['b1', 'ready'],
          ['gone', 'ready'], // left already: the registry is the fresher word
        ],
      ],
      ['a9', [['b1', 'ready']]], // its reporter left
    ]);
    expect(view.reportedLinks).toEqual([
      { from: 'NodeA', fromVariant: 'a1', to: 'NodeB', toVariant: 'b1', state: 'ready' },
      { from: 'NodeA', fromVariant: 'a1', to: 'NodeB', toVariant: 'b2', state: 'leaving' },
    ]);
  });
});

describe('httpAuth', () => {
  it('accepts only the configured bearer token', () => {
    const auth = { token: 'a-token-of-16-chars-or-more' };
    expect(isAuthorized(undefined, undefined)).toBe(true);
    expect(isAuthorized(auth, `Bearer ${auth.token}`)).toBe(true);
    expect(isAuthorized(auth, `bearer  ${auth.token}`)).toBe(true);
    expect(isAuthorized(auth, undefined)).toBe(false);
    expect(isAuthorized(auth, auth.token)).toBe(false);
    expect(isAuthorized(auth, `Bearer ${auth.token}x`)).toBe(false);
    expect(isAuthorized(auth, 'Basic abc')).toBe(false);
  });

  it.each([
    ['a string', 'secret', "'httpAuth' must be { token }"],
    ['a short token', { token: 'short' }, "'httpAuth.token' must be a string of at least 16 characters"],
    ['no token', {}, "'httpAuth.token' must be a string"],
  ])('refuses %s with MESH_SCHEMA_INVALID naming the field, in both fronts', (_what, value, message) => {
    const plain = catchError(() => validateHttpAuth(value));
    expect(plain).toBeInstanceOf(MeshError);
    expect((plain as MeshError).code).toBe('MESH_SCHEMA_INVALID');
    expect(plain.message).toContain(message);
    const nest = catchError(() => resolveManagerOptions({ ...TEST_KEYS, httpAuth: value }));
    expect((nest as MeshError).code).toBe('MESH_SCHEMA_INVALID');
    expect(nest.message).toContain(message);
  });

  it('a plain Manager with a bad httpAuth throws at construction and opens nothing', () => {
    expect(() => new Manager({ ...TEST_KEYS, port: 0, httpAuth: { token: 'short' } })).toThrow(/httpAuth\.token/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
