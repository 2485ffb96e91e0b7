import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { MeshErrorCode } from '../../lib/core/errors.js';
import { DEFAULTS } from '../../lib/core/options/defaults.js';
import { resolveManagerOptions as resolvePlainManager } from '../../lib/core/options/manager-options.js';
import { resolveSocketNodeOptions } from '../../lib/core/options/socket-node-options.js';
import type { MeshSchema } from '../../lib/core/schema.js';
import { resolveManagerOptions as resolveNestManager, resolveWorkerOptions } from '../../lib/nest/socket-mesh.options.js';

const KEYS = { publicKey: 'pub', privateKey: 'hosts-options-private-key-0123456789ab' };
const schema: MeshSchema = { NodeA: { _connect: ['NodeB'] }, NodeB: { _allow: ['NodeA'] } };
const plain = (extra: Record<string, unknown>) => resolveSocketNodeOptions({ worker: 'NodeA', schema, ...KEYS, ...extra });
const nest = (extra: Record<string, unknown>) =>
  resolveWorkerOptions('NodeA', { manager: { host: 'h', port: 4000 }, connect: ['NodeB'], ...KEYS, ...extra });

describe('options for nodes across hosts', () => {
  it('heartbeats default to 2000 / 2500 ms in both fronts and the manager, and can be set', () => {
    expect(plain({ port: 1 }).node).toMatchObject({ heartbeatInterval: 2000, heartbeatTimeout: 2500 });
    expect(nest({})).toMatchObject({
      heartbeatInterval: DEFAULTS.heartbeatInterval,
      heartbeatTimeout: DEFAULTS.heartbeatTimeout,
    });
    expect(nest({ heartbeatInterval: 1000, heartbeatTimeout: 1500 })).toMatchObject({
      heartbeatInterval: 1000,
      heartbeatTimeout: 1500,
    });
    expect(resolvePlainManager({ ...KEYS, heartbeatInterval: 500 })).toMatchObject({
      heartbeatInterval: 500,
      heartbeatTimeout: 2500,
    });
    expect(resolveNestManager({ ...KEYS, heartbeatTimeout: 900 })).toMatchObject({
      heartbeatInterval: 2000,
      heartbeatTimeout: 900,
    });
    expect(() => plain({ port: 1, heartbeatInterval: 0 })).toThrow(/heartbeatInterval/);
    expect(() => nest({ heartbeatTimeout: 'soon' })).toThrow(/heartbeatTimeout/);
  });

  it('plain bindHost reaches the node; unknown plain options are refused naming the key', () => {
    expect(plain({ port: 1, bindHost: '198.18.0.1' }).node.bindHost).toBe('198.18.0.1');
    expect(() => plain({ port: 1, bindHots: '127.0.0.1' })).toThrow(
      expect.objectContaining({
        code: MeshErrorCode.SCHEMA_INVALID,
        message: expect.stringMatching(/unknown option 'bindHots'.*bindHost/),
      }),
    );
  });

  it('plain managers: a list of { ip, port } / { ip, discoveryPort }, instead of ip/port', () => {
    expect(
      plain({
        managers: [
          { ip: '198.18.0.1', port: 4000 },
          { ip: '198.18.0.2', discoveryPort: '8765' },
        ],
      }).node.manager,
    ).toEqual([{ host: '198.18.0.1', port: 4000 }, { url: 'http://198.18.0.2:8765' }]);
    expect(() => plain({ managers: [] })).toThrow(/managers/);
    expect(() => plain({ managers: [{ ip: 'a', port: 1 }], port: 2 })).toThrow(/'port'.*absent when 'managers'/);
    expect(() => plain({ managers: [{ ip: 'a', prot: 1 }] })).toThrow(/managers\[0\]\.prot/);
  });

  it('Nest manager: one address or a list', () => {
    expect(nest({ manager: [{ host: 'm1', port: 1 }, { url: 'http://m2:3000' }] }).manager).toEqual([
      { host: 'm1', port: 1 },
      { url: 'http://m2:3000' },
    ]);
    expect(() => nest({ manager: [] })).toThrow(/manager/);
    expect(() => nest({ manager: [{ host: 'm1' }] })).toThrow(/manager\[0\]\.port/);
  });
});
