/**
 * Type tests (compiled by `npm run build:all`, never run): the plain Node.js API of
 * 'socket-mesh/plain'. See README.md beside this file.
 */
import { expectTypeOf } from 'expect-type';
import {
  Manager,
  SocketNode,
  type CallOptions,
  type ManagerOptions,
  type MeshSchema,
  type PeerDescriptor,
  type RegistryEntry,
  type SocketNodeConnection,
  type SocketNodeInfo,
  type SocketNodeOptions,
} from '../../lib/plain.js';

const schema: MeshSchema = {
  NodeA: { _connect: ['NodeB'] },
  NodeB: {
    _allow: ['NodeA'],
    _commands: {
      _balanced: { status: (payload: unknown) => payload },
      _broadcast: { collect: { method: () => 1, responds: true } },
    },
  },
};

// ---- SocketNodeOptions: the seed's names; what compiles today keeps compiling ----------------
const full: SocketNodeOptions = {
  worker: 'NodeA',
  schema,
  publicKey: 'pub',
  privateKey: 'priv',
  ip: '127.0.0.1',
  port: 8765,
  discoveryPort: '8766',
  meshPort: 0,
  hostname: '127.0.0.1',
  variant: 'a1',
  redis: 'redis://127.0.0.1:6379',
  logLevel: 'warn',
  logger: console,
  timeout: 10_000,
  maxFrameSize: 1 << 20,
  handshakeTimeout: 5000,
  maxInFlight: 100,
  maxPending: 1000,
  drainTimeout: 5000,
  onConnected(info) {
    expectTypeOf(this).toEqualTypeOf<SocketNode>();
    expectTypeOf(info).toEqualTypeOf<SocketNodeInfo>();
  },
  onConnection(connection) {
    expectTypeOf(this).toEqualTypeOf<SocketNode>();
    expectTypeOf(connection).toEqualTypeOf<SocketNodeConnection>();
  },
  onDisconnection(connection) {
    expectTypeOf(connection.direction).toEqualTypeOf<'outgoing' | 'incoming' | undefined>();
  },
};
expectTypeOf({ ...full, redis: { host: '127.0.0.1', port: 6379 } }).toExtend<SocketNodeOptions>();
// @ts-expect-error worker, schema and the keys are required
const _noWorker: SocketNodeOptions = { schema, publicKey: 'pub', privateKey: 'priv' };
// @ts-expect-error the keys are required
const _noKeys: SocketNodeOptions = { worker: 'NodeA', schema };
// @ts-expect-error an unknown log level
const _badLevel: SocketNodeOptions = { ...full, logLevel: 'loud' };

// ---- SocketNode ------------------------------------------------------------------------------
expectTypeOf(SocketNode).toBeConstructibleWith(full);
declare const node: SocketNode;
expectTypeOf(node.worker).toEqualTypeOf<string>();
expectTypeOf(node.variant).toEqualTypeOf<string>();
expectTypeOf(node.ready()).toEqualTypeOf<Promise<void>>();
expectTypeOf(node.close()).toEqualTypeOf<Promise<void>>();
expectTypeOf(node.peers).toBeCallableWith();
expectTypeOf(node.peers).toBeCallableWith('NodeB');
expectTypeOf(node.peers('NodeB')).toEqualTypeOf<PeerDescriptor[]>();
expectTypeOf(node.meshServer.listening).toEqualTypeOf<boolean>();
expectTypeOf(node.meshServer.port).toEqualTypeOf<number>();
expectTypeOf(node.managerConnected).toEqualTypeOf<boolean>();
// @ts-expect-error read-only: it reports the link, it does not set it
node.managerConnected = true;
// The call tree: node.call.<Worker>.<command>.call(payload?, options?) → Promise<T>.
const status = node.call.NodeB!.status!;
expectTypeOf(status.call).toBeCallableWith();
expectTypeOf(status.call).toBeCallableWith({ any: 'payload' }, { timeout: 100, settle: true } satisfies CallOptions);
expectTypeOf(status.call<{ pid: number }>({})).toEqualTypeOf<Promise<{ pid: number }>>();
expectTypeOf(status.call({})).toEqualTypeOf<Promise<unknown>>();
// @ts-expect-error the call tree is read-only
node.call = {};
// @ts-expect-error the options are typed
void status.call({}, { timeout: 'soon' });

// ---- Manager, ManagerOptions ------------------------------------------------------------------
const managerOptions: ManagerOptions = {
  publicKey: 'pub',
  privateKey: 'priv',
  port: 8765,
  host: '127.0.0.1',
  schema,
  discoveryPort: false,
  logLevel: 'silent',
  logger: console,
  handshakeTimeout: 5000,
  maxFrameSize: 1 << 20,
  registrationsPerSecond: 50,
};
expectTypeOf({ ...managerOptions, discoveryPort: 8766 }).toExtend<ManagerOptions>();
// @ts-expect-error the keys are required
const _managerNoKeys: ManagerOptions = { port: 8765 };
expectTypeOf(Manager).toBeConstructibleWith(managerOptions);
declare const manager: Manager;
expectTypeOf(manager.ready()).toEqualTypeOf<Promise<void>>();
expectTypeOf(manager.close()).toEqualTypeOf<Promise<void>>();
expectTypeOf(manager.port).toEqualTypeOf<number>();
expectTypeOf(manager.discoveryPort).toEqualTypeOf<number | undefined>();
expectTypeOf(manager.listening).toEqualTypeOf<boolean>();
expectTypeOf(manager.nodes()).toEqualTypeOf<RegistryEntry[]>();
// 'links': an instance reported a change of its live links; the argument is its variant.
manager.on('links', (variant) => expectTypeOf(variant).toEqualTypeOf<string>());
expectTypeOf<RegistryEntry>().toHaveProperty('worker').toEqualTypeOf<string>();
expectTypeOf<RegistryEntry>().toHaveProperty('variant').toEqualTypeOf<string>();
