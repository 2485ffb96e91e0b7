/**
 * Type tests (compiled by `npm run build:all`, never run): the NestJS front of 'socket-mesh':
 * module factories, option types, MeshClient.node<T>() and the decorators. See README.md.
 */
import type { DynamicModule } from '@nestjs/common';
import { expectTypeOf } from 'expect-type';
import { Observable } from 'rxjs';
import {
  Balanced,
  Broadcast,
  MeshClient,
  OnMeshEvent,
  SocketMeshModule,
  type BalancedOptions,
  type BroadcastOptions,
  type CallOptions,
  type MeshEventName,
  type MeshHandlerContext,
  type MeshRequest,
  type MeshNodeProxy,
  type SocketMeshManagerAsyncOptions,
  type SocketMeshManagerOptions,
  type SocketMeshQueueOptions,
  type SocketMeshWorkerAsyncOptions,
  type SocketMeshWorkerOptions,
  type UntypedMeshNode,
} from '../../lib/index.js';

// ---- SocketMeshWorkerOptions: what compiles today keeps compiling -----------------------------
const queue: SocketMeshQueueOptions = { maxPending: 100, attempts: 3, backoff: 1000 };
const worker: SocketMeshWorkerOptions = {
  manager: { host: '127.0.0.1', port: 8765 },
  meshPort: 0,
  bindHost: '0.0.0.0',
  advertiseHost: '127.0.0.1',
  instanceId: 'b1',
  allow: ['NodeA'],
  connect: ['NodeB'] as readonly string[],
  publicKey: 'pub',
  privateKey: 'priv',
  redis: 'redis://127.0.0.1:6379',
  queue,
  timeout: 10_000,
  maxFrameSize: 1 << 20,
  handshakeTimeout: 5000,
  maxInFlight: 100,
  maxPending: 1000,
  drainTimeout: 5000,
};
expectTypeOf({
  ...worker,
  manager: { url: 'http://127.0.0.1:8766' },
  allow: 'anyNode' as const,
}).toExtend<SocketMeshWorkerOptions>();
expectTypeOf({ ...worker, redis: { host: '127.0.0.1', port: 6379 } }).toExtend<SocketMeshWorkerOptions>();
// @ts-expect-error manager and the keys are required
const _workerNoManager: SocketMeshWorkerOptions = { publicKey: 'pub', privateKey: 'priv' };
// @ts-expect-error the keys are required
const _workerNoKeys: SocketMeshWorkerOptions = { manager: { url: 'http://127.0.0.1:8766' } };
// @ts-expect-error allow is a list of worker names or 'anyNode'
const _workerBadAllow: SocketMeshWorkerOptions = { ...worker, allow: 'everyone' };

// ---- SocketMeshManagerOptions ----------------------------------------------------------------
const manager: SocketMeshManagerOptions = {
  port: 8765,
  host: '127.0.0.1',
  publicKey: 'pub',
  privateKey: 'priv',
  schema: { NodeA: { _connect: ['NodeB'] }, NodeB: { _allow: ['NodeA'] } },
  handshakeTimeout: 5000,
  maxFrameSize: 1 << 20,
  registrationsPerSecond: 50,
};
// @ts-expect-error the keys are required
const _managerNoKeys: SocketMeshManagerOptions = { port: 8765 };

// ---- SocketMeshModule: the four factories return a DynamicModule ------------------------------
expectTypeOf(SocketMeshModule.forWorker).toBeCallableWith('NodeA', worker);
expectTypeOf(SocketMeshModule.forWorker('NodeA', worker)).toEqualTypeOf<DynamicModule>();
expectTypeOf(SocketMeshModule.forManager).toBeCallableWith(manager);
expectTypeOf(SocketMeshModule.forManager(manager)).toEqualTypeOf<DynamicModule>();
const workerAsync: SocketMeshWorkerAsyncOptions = {
  imports: [],
  useFactory: (port: number) => ({ ...worker, meshPort: port }),
  inject: ['PORT'],
};
expectTypeOf(SocketMeshModule.forWorkerAsync).toBeCallableWith('NodeA', workerAsync);
expectTypeOf(SocketMeshModule.forWorkerAsync).toBeCallableWith('NodeA', { useFactory: async () => worker });
expectTypeOf(SocketMeshModule.forWorkerAsync('NodeA', workerAsync)).toEqualTypeOf<DynamicModule>();
const managerAsync: SocketMeshManagerAsyncOptions = { useFactory: () => manager };
expectTypeOf(SocketMeshModule.forManagerAsync).toBeCallableWith(managerAsync);
expectTypeOf(SocketMeshModule.forManagerAsync(managerAsync)).toEqualTypeOf<DynamicModule>();
// @ts-expect-error forWorker needs the worker's name first
SocketMeshModule.forWorker(worker);
// @ts-expect-error the factory must produce worker options
SocketMeshModule.forWorkerAsync('NodeA', { useFactory: () => ({ port: 1 }) });

// ---- MeshClient.call and node<T>() --------------------------------------------------------------
declare const client: MeshClient;
expectTypeOf(client.call('NodeB', 'status')).toEqualTypeOf<Promise<unknown>>();
expectTypeOf(client.call<{ pid: number }>('NodeB', 'status', {}, { timeout: 1 })).toEqualTypeOf<Promise<{ pid: number }>>();

/** A worker's API as a caller describes it: sync, async, Observable, optional payload, a field. */
interface NodeBApi {
  status(payload: { test: string }): { status: string; pid: number };
  collect(payload: { test: string }): Promise<{ pid: number }[]>;
  ticks(payload: { n: number }): Observable<number>;
  ping(payload?: { at: number }): void;
  version: string;
}
const nodeB = client.node<NodeBApi>('NodeB');
expectTypeOf(nodeB).toEqualTypeOf<MeshNodeProxy<NodeBApi>>();
// Each method becomes (payload, options?) => Promise<answer>: sync, awaited and Observable answers alike.
expectTypeOf(nodeB.status).toEqualTypeOf<
  (payload: { test: string }, options?: CallOptions) => Promise<{ status: string; pid: number }>
>();
expectTypeOf(nodeB.collect).returns.toEqualTypeOf<Promise<{ pid: number }[]>>();
expectTypeOf(nodeB.ticks).returns.toEqualTypeOf<Promise<number>>();
// An optional payload stays optional.
expectTypeOf(nodeB.ping).toBeCallableWith();
expectTypeOf(nodeB.ping).toBeCallableWith({ at: 1 }, { only: 'b1' });
// Only methods are commands; the proxy is read-only.
expectTypeOf<keyof typeof nodeB>().toEqualTypeOf<'status' | 'collect' | 'ticks' | 'ping'>();
// @ts-expect-error the payload is typed
void nodeB.status({ test: 1 });
// @ts-expect-error a required payload is required
void nodeB.status();
// @ts-expect-error not a command of NodeBApi
void nodeB.nope;
// @ts-expect-error the proxy's methods cannot be replaced
nodeB.status = () => Promise.resolve({ status: '', pid: 0 });
// Without a type argument every command is allowed and answers unknown.
expectTypeOf(client.node('NodeB')).toEqualTypeOf<MeshNodeProxy<UntypedMeshNode>>();
expectTypeOf(client.node('NodeB').anything).toBeCallableWith({ any: 1 }, { timeout: 5 });
expectTypeOf(client.node('NodeB').anything).returns.toEqualTypeOf<Promise<unknown>>();

// ---- decorators ---------------------------------------------------------------------------------
expectTypeOf(Balanced()).toEqualTypeOf<MethodDecorator>();
expectTypeOf(Balanced).toBeCallableWith({ name: 'status', timeout: 100, retries: 2 } satisfies BalancedOptions);
expectTypeOf(Broadcast()).toEqualTypeOf<MethodDecorator>();
expectTypeOf(Broadcast).toBeCallableWith({ name: 'collect', responds: true, timeout: 100 } satisfies BroadcastOptions);
expectTypeOf(Broadcast).toBeCallableWith({ queued: true });
expectTypeOf(OnMeshEvent('connected')).toEqualTypeOf<MethodDecorator>();
expectTypeOf<MeshEventName>().toEqualTypeOf<'connected' | 'peer.connected' | 'peer.disconnected'>();
// @ts-expect-error responds/queued are broadcast options
Balanced({ responds: true });
// @ts-expect-error retries are for balanced commands only
Broadcast({ retries: 1 });
// @ts-expect-error not a mesh event
OnMeshEvent('disconnected');

class Service {
  @Balanced({ name: 'status' })
  status(payload: { test: string }, context: MeshHandlerContext) {
    return { payload, worker: context.worker, command: context.command, kind: context.kind };
  }
  @Broadcast({ responds: true })
  collect() {
    return 1;
  }
  @OnMeshEvent('peer.connected')
  linked() {}
}
void Service;
expectTypeOf<MeshHandlerContext>().toHaveProperty('worker').toEqualTypeOf<string>();
expectTypeOf<MeshHandlerContext>().toHaveProperty('command').toEqualTypeOf<string>();
expectTypeOf<MeshHandlerContext['kind']>().toEqualTypeOf<'balanced' | 'broadcast'>();
expectTypeOf<MeshRequest<{ id: string }>['payload']>().toEqualTypeOf<{ id: string }>();
expectTypeOf<MeshRequest>().toMatchTypeOf<MeshHandlerContext>();
