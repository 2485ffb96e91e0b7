/**
 * SocketMeshModule with real Nest apps in this Jest process and real sockets on 127.0.0.1:
 * a manager app (HTTP on a free port, socket port free and discovered), two NodeB apps
 * (allow NodeA), NodeA (connect NodeB, finds the manager by URL) and NodeC (connect NodeB,
 * which does not allow it). The steps share that mesh and run in order.
 */
import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  HttpException,
  Inject,
  Injectable,
  Module,
  Scope,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type INestApplicationContext,
  type NestInterceptor,
  type OnModuleInit,
  type PipeTransform,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory, REQUEST } from '@nestjs/core';
import { interval, map, type Observable } from 'rxjs';
import {
  Balanced,
  Broadcast,
  MeshClient,
  MeshErrorCode,
  OnMeshEvent,
  SocketMeshModule,
  type MeshEventPayload,
  type MeshRequest,
  type SocketMeshWorkerOptions,
} from '../lib/index.js';
import { waitForEmit } from './support/wait-for.js';
import { meshError } from './support/mesh-rejection.js';

const KEYS = { publicKey: 'nest-e2e-public-key', privateKey: 'nest-e2e-private-key-0123456789abcdef' };
const LOGGER = ['fatal', 'error', 'warn'] as const;
const VARIANT = Symbol('VARIANT');

// ---------------------------------------------------------------------------------------------
// Enhancers: prove that guards, pipes, interceptors apply to mesh handlers, with context 'mesh'.

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value: unknown) => ({ wrapped: value, type: context.getType() })));
  }
}

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<{ token?: string } | undefined>();
    return context.getType<string>() === 'mesh' && data?.token === 'let-me-in';
  }
}

@Injectable()
class NumberPipe implements PipeTransform {
  transform(value: { n: unknown }) {
    return { ...value, n: Number(value.n) };
  }
}

// ---------------------------------------------------------------------------------------------
// NodeB's commands (two instances), NodeA's event collector and early caller.

@Injectable()
class NodeBCommands {
  constructor(@Inject(VARIANT) private readonly variant: string) {}

  @Balanced()
  status({ test }: { test: string }) {
    return { status: `ok ${test}`, variant: this.variant };
  }

  @Broadcast({ responds: true })
  collect({ test }: { test: string }) {
    return { command: test, variant: this.variant };
  }

  @Balanced()
  @UseInterceptors(WrapInterceptor)
  wrapped(payload: unknown) {
    return payload;
  }

  @Balanced()
  @UseGuards(TokenGuard)
  guarded() {
    return `inside ${this.variant}`;
  }

  @Balanced()
  @UsePipes(NumberPipe)
  typed(payload: { n: number }) {
    return typeof payload.n;
  }

  @Balanced()
  ticks(): Observable<number> {
    return interval(5).pipe(map((i) => i + 1)); // never completes: the first value answers
  }

  @Balanced()
  fail({ message, status }: { message: string; status: number }): never {
    throw new HttpException(message, status);
  }

  @Broadcast()
  notify() {}

  @Balanced({ name: 'renamed' })
  original() {
    return 'renamed ok';
  }
}

/** The caller's view of NodeB. */
interface NodeBApi {
  status(payload: { test: string }): { status: string; variant: string };
  collect(payload: { test: string }): { command: string; variant: string }[];
}

@Injectable()
class MeshEvents extends EventEmitter {
  readonly seen: { name: string; payload: MeshEventPayload }[] = [];

  @OnMeshEvent('connected')
  connected(payload: MeshEventPayload) {
    this.record('connected', payload);
  }

  @OnMeshEvent('peer.connected')
  peerConnected(payload: MeshEventPayload) {
    this.record('peer.connected', payload);
  }

  @OnMeshEvent('peer.disconnected')
  peerDisconnected(payload: MeshEventPayload) {
    this.record('peer.disconnected', payload);
  }

  /** Outgoing links to `worker` up now, by variant, from the events seen. */
  linkedTo(worker: string): Set<string> {
    const up = new Set<string>();
    for (const { name, payload } of this.seen) {
      if (payload.worker !== worker || payload.direction !== 'outgoing') continue;
      if (name === 'peer.connected') up.add(payload.variant);
      if (name === 'peer.disconnected') up.delete(payload.variant);
    }
    return up;
  }

  /** Resolves once `condition` holds, checked now and after every event; rejects at the deadline. */
  async until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (condition()) return;
    await waitForEmit(this, 'event', timeoutMs, () => condition());
  }

  private record(name: string, payload: MeshEventPayload) {
    this.seen.push({ name, payload });
    this.emit('event', name, payload);
  }
}

/** Calls NodeB before its own node has started: the call must wait, not throw. */
@Injectable()
class EarlyCaller implements OnModuleInit {
  early!: Promise<unknown>;

  constructor(private readonly mesh: MeshClient) {}

  onModuleInit() {
    this.early = this.mesh.call('NodeB', 'status', { test: 'early' }, { timeout: 20_000 });
    this.early.catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------

function workerModule(name: string, options: SocketMeshWorkerOptions, providers: Provider[]): Type {
  @Module({ imports: [SocketMeshModule.forWorker(name, options)], providers })
  class WorkerModule {}
  return WorkerModule;
}

function startWorker(
  name: string,
  options: SocketMeshWorkerOptions,
  providers: Provider[] = [],
): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(workerModule(name, options, providers), {
    logger: [...LOGGER],
    abortOnError: false,
  });
}

/** GET on 127.0.0.1 without keep-alive (no socket outlives the test). */
function getJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SocketMeshModule (Nest apps in one process)', () => {
  let manager: INestApplication;
  let httpPort: number;
  let socketPort: number;
  let nodeB1: INestApplicationContext;
  let nodeB2: INestApplicationContext | undefined;
  let nodeA: INestApplicationContext;
  let nodeC: INestApplicationContext;
  let client: MeshClient;
  let events: MeshEvents;
  const open: (INestApplicationContext | undefined)[] = [];

  const nodeBOptions = (instanceId: string): SocketMeshWorkerOptions => ({
    manager: { host: '127.0.0.1', port: socketPort },
    bindHost: '127.0.0.1',
    instanceId,
    allow: ['NodeA'],
    ...KEYS,
  });

  beforeAll(async () => {
    @Module({ imports: [SocketMeshModule.forManagerAsync({ useFactory: async () => ({ host: '127.0.0.1', ...KEYS }) })] })
    class ManagerModule {}
    manager = await NestFactory.create(ManagerModule, { logger: [...LOGGER], abortOnError: false });
    await manager.listen(0, '127.0.0.1');
    httpPort = (manager.getHttpServer() as { address(): AddressInfo }).address().port;
    const { body } = await getJson(httpPort, '/socket-mesh/port');
    socketPort = (body as { port: number }).port;

    nodeB1 = await startWorker('NodeB', nodeBOptions('NodeB-1'), [{ provide: VARIANT, useValue: 'NodeB-1' }, NodeBCommands]);
    open.push(nodeB1);
    nodeB2 = await startWorker('NodeB', nodeBOptions('NodeB-2'), [{ provide: VARIANT, useValue: 'NodeB-2' }, NodeBCommands]);
    open.push(nodeB2);
    nodeA = await startWorker(
      'NodeA',
      { manager: { url: `http://127.0.0.1:${httpPort}` }, bindHost: '127.0.0.1', connect: ['NodeB'], ...KEYS },
      [MeshEvents, EarlyCaller],
    );
    open.push(nodeA);
    nodeC = await startWorker('NodeC', {
      manager: { host: '127.0.0.1', port: socketPort },
      bindHost: '127.0.0.1',
      connect: ['NodeB'],
      ...KEYS,
    });
    open.push(nodeC);
    client = nodeA.get(MeshClient);
    events = nodeA.get(MeshEvents);
  }, 30_000);

  afterAll(async () => {
    // Workers first, then the manager: every app.close() must release all it opened.
    await Promise.all(open.map(async (app) => app?.close()));
    await manager?.close();
  }, 30_000);

  it('serves GET /socket-mesh/port with the socket port (a free one was chosen)', async () => {
    const { status, body } = await getJson(httpPort, '/socket-mesh/port');
    expect(status).toBe(200);
    expect(body).toEqual({ port: socketPort });
    expect(socketPort).toBeGreaterThan(0);
    expect(socketPort).not.toBe(httpPort);
  });

  it('NodeA, given the manager URL, discovers the socket port, registers and links to both NodeB instances', async () => {
    await client.ready();
    await events.until(() => events.linkedTo('NodeB').size === 2);
    expect(events.seen.some((e) => e.name === 'connected' && e.payload.worker === 'NodeA')).toBe(true);
    const peers = client.peers('NodeB');
    expect(peers.map((p) => p.variant).sort()).toEqual(['NodeB-1', 'NodeB-2']);
    for (const peer of peers) {
      expect(peer).toEqual({ worker: 'NodeB', variant: peer.variant, host: '127.0.0.1', port: expect.any(Number) });
    }
    expect(client.peers()).toHaveLength(2);
  });

  it('serves GET /socket-mesh/nodes with the registry', async () => {
    await nodeC.get(MeshClient).ready();
    const { status, body } = await getJson(httpPort, '/socket-mesh/nodes');
    expect(status).toBe(200);
    const nodes = body as { worker: string; variant: string; commands: string[]; allow: unknown; connect: unknown }[];
    expect(nodes.map((n) => n.worker).sort()).toEqual(['NodeA', 'NodeB', 'NodeB', 'NodeC']);
    const b1 = nodes.find((n) => n.variant === 'NodeB-1')!;
    expect(b1.allow).toEqual(['NodeA']);
    expect(b1.commands.sort()).toEqual([
      'collect',
      'fail',
      'guarded',
      'notify',
      'renamed',
      'status',
      'ticks',
      'typed',
      'wrapped',
    ]);
    expect(nodes.find((n) => n.worker === 'NodeA')!.connect).toEqual(['NodeB']);
  });

  it('a call made before the node started waited for it instead of failing', async () => {
    await expect(nodeA.get(EarlyCaller).early).resolves.toEqual({
      status: 'ok early',
      variant: expect.stringMatching(/^NodeB-[12]$/),
    });
  });

  it('balanced calls alternate between the two NodeB instances', async () => {
    const variants: string[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await client.call<{ status: string; variant: string }>('NodeB', 'status', { test: `n${i}` });
      expect(answer.status).toBe(`ok n${i}`);
      variants.push(answer.variant);
    }
    for (let i = 1; i < variants.length; i++) expect(variants[i]).not.toBe(variants[i - 1]);
    expect(variants.filter((v) => v === 'NodeB-1')).toHaveLength(10);
    expect(variants.filter((v) => v === 'NodeB-2')).toHaveLength(10);
  });

  it('a responding broadcast returns one answer per instance', async () => {
    const answers = await client.call<{ command: string; variant: string }[]>('NodeB', 'collect', { test: 'data' });
    expect(answers).toHaveLength(2);
    expect(answers.map((a) => a.command)).toEqual(['data', 'data']);
    expect(answers.map((a) => a.variant).sort()).toEqual(['NodeB-1', 'NodeB-2']);
  });

  it('a plain broadcast reports how many instances took it; call options reach the core', async () => {
    await expect(client.call('NodeB', 'notify', { n: 1 })).resolves.toEqual({ delivered: 2 });
    await expect(client.call('NodeB', 'status', { test: 'only' }, { only: 'NodeB-2' })).resolves.toMatchObject({
      variant: 'NodeB-2',
    });
    const settled = await client.call<{ status: string; variant: string }[]>('NodeB', 'collect', { test: 's' }, { settle: true });
    expect(settled.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('node<T>() is a typed proxy for call(), and not a thenable', async () => {
    const nodeB = client.node<NodeBApi>('NodeB');
    const status = await nodeB.status({ test: 'proxy' });
    expect(status.status).toBe('ok proxy');
    const collected = await nodeB.collect({ test: 'all' });
    expect(collected).toHaveLength(2);
    const loose = nodeB as unknown as Record<string | symbol, unknown>;
    expect(loose.then).toBeUndefined();
    expect(loose[Symbol.iterator]).toBeUndefined();
    expect(loose[Symbol.toStringTag]).toBeUndefined();
    // Awaiting the proxy gives the proxy back: it does not look like a Promise.
    expect(await Promise.resolve(nodeB)).toBe(nodeB);
    expect((await meshError((loose.constructor as () => Promise<unknown>)())).code).toBe(MeshErrorCode.UNKNOWN_COMMAND);
  });

  it('the decorator option name renames the command', async () => {
    await expect(client.call('NodeB', 'renamed')).resolves.toBe('renamed ok');
    expect((await meshError(client.call('NodeB', 'original'))).code).toBe(MeshErrorCode.UNKNOWN_COMMAND);
  });

  it('interceptors wrap a mesh handler and see the context type "mesh"', async () => {
    await expect(client.call('NodeB', 'wrapped', { a: 1 })).resolves.toEqual({ wrapped: { a: 1 }, type: 'mesh' });
  });

  it('guards apply to a mesh handler: refused → MESH_REMOTE_ERROR with status 403', async () => {
    await expect(client.call('NodeB', 'guarded', { token: 'let-me-in' })).resolves.toMatch(/^inside NodeB-[12]$/);
    const err = await meshError(client.call('NodeB', 'guarded', { token: 'wrong' }));
    expect(err.code).toBe(MeshErrorCode.REMOTE_ERROR);
    expect(err.status).toBe(403);
    expect(err.remoteName).toBe('ForbiddenException');
  });

  it('pipes transform the payload before the handler gets it', async () => {
    await expect(client.call('NodeB', 'typed', { n: '42' })).resolves.toBe('number');
  });

  it('an Observable result answers with its first value', async () => {
    await expect(client.call('NodeB', 'ticks')).resolves.toBe(1);
  });

  it('an HttpException reaches the caller as MESH_REMOTE_ERROR with its status', async () => {
    const err = await meshError(client.call('NodeB', 'fail', { message: 'I am a teapot', status: 418 }));
    expect(err.code).toBe(MeshErrorCode.REMOTE_ERROR);
    expect(err.status).toBe(418);
    expect(err.message).toBe('I am a teapot');
    expect(err.remoteName).toBe('HttpException');
  });

  it('NodeC, which NodeB does not allow, gets MESH_ACCESS_DENIED', async () => {
    const err = await meshError(nodeC.get(MeshClient).call('NodeB', 'status', { test: 'x' }));
    expect(err.code).toBe(MeshErrorCode.ACCESS_DENIED);
  });

  it('a worker not in connect gets MESH_ACCESS_DENIED at once', async () => {
    expect((await meshError(client.call('NodeC', 'status'))).code).toBe(MeshErrorCode.ACCESS_DENIED);
  });

  it.each(['nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'command %p is MESH_UNKNOWN_COMMAND',
    async (command) => {
      const err = await meshError(client.call('NodeB', command, {}));
      expect(err.code).toBe(MeshErrorCode.UNKNOWN_COMMAND);
    },
  );

  it('forWorkerAsync takes its options from an imported, injected provider', async () => {
    const CONFIG = Symbol('CONFIG');
    @Module({ providers: [{ provide: CONFIG, useValue: { httpPort, ...KEYS } }], exports: [CONFIG] })
    class ConfigModule {}
    @Module({
      imports: [
        SocketMeshModule.forWorkerAsync('NodeD', {
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: async (config: { httpPort: number; publicKey: string; privateKey: string }) => ({
            manager: { url: `http://127.0.0.1:${config.httpPort}` },
            bindHost: '127.0.0.1',
            instanceId: 'NodeD-1',
            publicKey: config.publicKey,
            privateKey: config.privateKey,
          }),
        }),
      ],
    })
    class NodeDModule {}
    const nodeD = await NestFactory.createApplicationContext(NodeDModule, { logger: [...LOGGER], abortOnError: false });
    open.push(nodeD);
    await nodeD.get(MeshClient).ready();
    const { body } = await getJson(httpPort, '/socket-mesh/nodes');
    expect((body as { variant: string }[]).map((n) => n.variant)).toContain('NodeD-1');
    await nodeD.close();
    open.splice(open.indexOf(nodeD), 1);
    // After close, calls fail at once instead of hanging.
    expect((await meshError(nodeD.get(MeshClient).call('NodeB', 'status'))).code).toBe(MeshErrorCode.CLOSED);
  });

  it('a request-scoped provider serves mesh calls: an instance per call, REQUEST is the call', async () => {
    let instances = 0;
    @Injectable({ scope: Scope.REQUEST })
    class ScopedCommands {
      private readonly id = ++instances;
      constructor(@Inject(REQUEST) private readonly request: MeshRequest<{ n: number }>) {}
      @Balanced()
      scoped() {
        return { id: this.id, n: this.request.payload.n, caller: this.request.caller.worker };
      }
    }
    const mesh = { manager: { host: '127.0.0.1', port: socketPort }, bindHost: '127.0.0.1', ...KEYS };
    const served = await startWorker('NodeS', { ...mesh, allow: ['NodeT'] }, [ScopedCommands]);
    open.push(served);
    const caller = await startWorker('NodeT', { ...mesh, connect: ['NodeS'] });
    open.push(caller);
    const mesh$ = caller.get(MeshClient);
    await mesh$.waitFor('NodeS', { timeout: 10_000 });
    const first = await mesh$.call('NodeS', 'scoped', { n: 1 });
    const second = await mesh$.call('NodeS', 'scoped', { n: 2 });
    expect(first).toEqual({ id: expect.any(Number), n: 1, caller: 'NodeT' });
    expect(second).toMatchObject({ n: 2, caller: 'NodeT' });
    expect((second as { id: number }).id).not.toBe((first as { id: number }).id);
    for (const app of [caller, served]) {
      await app.close();
      open.splice(open.indexOf(app), 1);
    }
  });

  it('closing one NodeB: NodeA hears peer.disconnected and the other instance takes every call', async () => {
    const gone = events.until(() => !events.linkedTo('NodeB').has('NodeB-2'));
    await nodeB2!.close();
    open.splice(open.indexOf(nodeB2), 1);
    nodeB2 = undefined;
    await gone;
    expect(client.peers('NodeB').map((p) => p.variant)).toEqual(['NodeB-1']);
    for (let i = 0; i < 4; i++) {
      await expect(client.call('NodeB', 'status', { test: 'x' })).resolves.toMatchObject({ variant: 'NodeB-1' });
    }
  });
});

describe('SocketMeshModule start-up errors', () => {
  const manager = { host: '127.0.0.1', port: 1 };

  it('@Broadcast({ responds: true, queued: true }) fails at start, naming the worker and the command', async () => {
    @Injectable()
    class BadCommands {
      @Broadcast({ responds: true, queued: true })
      both() {}
    }
    const start = startWorker('NodeX', { manager, ...KEYS }, [BadCommands]);
    await expect(start).rejects.toThrow(/worker 'NodeX'.*command 'both'.*responds and queued/);
    await expect(start).rejects.toMatchObject({ code: MeshErrorCode.SCHEMA_INVALID });
  });

  it('two providers declaring one command fail at start, naming both', async () => {
    @Injectable()
    class FirstStatus {
      @Balanced()
      status() {}
    }
    @Injectable()
    class SecondStatus {
      @Balanced({ name: 'status' })
      other() {}
    }
    await expect(startWorker('NodeX', { manager, ...KEYS }, [FirstStatus, SecondStatus])).rejects.toThrow(
      /worker 'NodeX': command 'status' is declared twice, by FirstStatus\.status and by SecondStatus\.other/,
    );
  });

  it('a missing key fails at start, naming the worker and the field', async () => {
    const options = { manager, publicKey: 'only-public' } as unknown as SocketMeshWorkerOptions;
    await expect(startWorker('NodeX', options)).rejects.toThrow(/forWorker\('NodeX'\): option 'privateKey' is required/);
  });

  it('bad rights and misspelt options fail at start with clear messages', async () => {
    const badAllow = { manager, ...KEYS, allow: 'NodeA' } as unknown as SocketMeshWorkerOptions;
    await expect(startWorker('NodeX', badAllow)).rejects.toThrow(
      /worker 'NodeX': 'allow' must be an array of worker names or 'anyNode'/,
    );
    const typo = { manager, ...KEYS, conect: ['NodeB'] } as unknown as SocketMeshWorkerOptions;
    await expect(startWorker('NodeX', typo)).rejects.toThrow(/unknown option 'conect' \(did you mean 'connect'\?\)/);
    const noManager = { ...KEYS } as unknown as SocketMeshWorkerOptions;
    await expect(startWorker('NodeX', noManager)).rejects.toThrow(/option 'manager' is required/);
  });
});
