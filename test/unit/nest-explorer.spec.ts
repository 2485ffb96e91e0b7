/**
 * SocketMeshExplorer in a real Nest testing module (DiscoveryModule, real providers and
 * controllers, the app's own lifecycle): which command table it builds from @Balanced and
 * @Broadcast methods, which event listeners from @OnMeshEvent, and what it refuses.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Inject,
  Injectable,
  Scope,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type LoggerService,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule, REQUEST } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { of } from 'rxjs';
import { Balanced, Broadcast, OnMeshEvent, type MeshHandlerContext, type MeshRequest } from '../../lib/index.js';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { SOCKET_MESH_WORKER_NAME } from '../../lib/nest/socket-mesh.constants.js';
import { SocketMeshExplorer } from '../../lib/nest/socket-mesh.explorer.js';

const WORKER = 'NodeX';

/** Keeps what Nest's Logger is given during the test module's life. */
class RecordingNestLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  at(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}

const modules: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(modules.splice(0).map((m) => m.close()));
});

/** Compiles a module holding the explorer and `classes`; `init()` runs the exploration. */
async function explorerFor(classes: {
  providers?: Provider[];
  controllers?: Type[];
}): Promise<{ module: TestingModule; explorer: SocketMeshExplorer; logger: RecordingNestLogger }> {
  const logger = new RecordingNestLogger();
  const module = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [{ provide: SOCKET_MESH_WORKER_NAME, useValue: WORKER }, SocketMeshExplorer, ...(classes.providers ?? [])],
    controllers: classes.controllers ?? [],
  })
    .setLogger(logger)
    .compile();
  modules.push(module);
  return { module, explorer: module.get(SocketMeshExplorer), logger };
}

async function initError(module: TestingModule): Promise<MeshError> {
  try {
    await module.init();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError);
    return err as MeshError;
  }
  throw new Error('init() resolved; expected a MeshError');
}

/** What a guard of a mesh handler sees: Nest's context type and the rpc data/context pair. */
const guardSaw: { type: string; data: unknown; context: unknown }[] = [];
@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const rpc = context.switchToRpc();
    guardSaw.push({ type: context.getType(), data: rpc.getData(), context: rpc.getContext() });
    return true;
  }
}

const summary = (explorer: SocketMeshExplorer) =>
  explorer.commands
    .map(({ name, kind, responds, queued, timeout, retries }) => ({ name, kind, responds, queued, timeout, retries }))
    .sort((a, b) => a.name.localeCompare(b.name));

describe('SocketMeshExplorer: the command table', () => {
  @Injectable()
  class StatusService {
    readonly tag = 'status-service';

    @Balanced()
    @UseGuards(RecordingGuard)
    status(payload: unknown) {
      return { payload, tag: this.tag };
    }

    @Balanced({ name: 'health', timeout: 250, retries: 2 })
    internalHealthName() {
      return 'ok';
    }

    @Broadcast({ responds: true, timeout: 1000 })
    collect() {
      return of('first', 'second');
    }

    /** Not decorated: not a command. */
    helper() {
      return 'not served';
    }
  }

  @Controller()
  class IngestController {
    @Broadcast({ queued: true })
    ingest(payload: { n: number }) {
      return payload.n * 2;
    }

    @Broadcast({ name: 'notify' })
    notifyAll() {
      return undefined;
    }

    @OnMeshEvent('peer.connected')
    @OnMeshEvent('peer.disconnected')
    linkChanged() {
      return 'seen';
    }
  }

  it('holds every decorated method of singleton providers and controllers, under its (renamed) name and kind', async () => {
    const { module, explorer, logger } = await explorerFor({ providers: [StatusService], controllers: [IngestController] });
    await module.init();
    await expect(explorer.explored).resolves.toBeUndefined();

    expect(summary(explorer)).toEqual([
      { name: 'collect', kind: 'broadcast', responds: true, queued: false, timeout: 1000, retries: undefined },
      { name: 'health', kind: 'balanced', responds: false, queued: false, timeout: 250, retries: 2 },
      { name: 'ingest', kind: 'broadcast', responds: false, queued: true, timeout: undefined, retries: undefined },
      { name: 'notify', kind: 'broadcast', responds: false, queued: false, timeout: undefined, retries: undefined },
      { name: 'status', kind: 'balanced', responds: false, queued: false, timeout: undefined, retries: undefined },
    ]);
    // The method's own name is not served when the decorator renames it.
    expect(explorer.commands.map((c) => c.name)).not.toContain('internalHealthName');
    expect(explorer.listeners.map((l) => [l.event, l.label]).sort()).toEqual([
      ['peer.connected', 'IngestController.linkChanged'],
      ['peer.disconnected', 'IngestController.linkChanged'],
    ]);
    expect(logger.at('log')).toContainEqual(
      `worker '${WORKER}' serves status (balanced), health (balanced), collect (broadcast, responds), ingest (broadcast, queued), notify (broadcast)`,
    );
  });

  it('handlers run on the provider instance with the payload, guards see a MeshHandlerContext; Observables give their first value', async () => {
    const { module, explorer } = await explorerFor({ providers: [StatusService], controllers: [IngestController] });
    await module.init();
    const command = (name: string) => explorer.commands.find((c) => c.name === name)!;

    guardSaw.length = 0;
    const callContext = { caller: { worker: 'NodeA', variant: 'a1' }, metadata: { trace: 't1' } };
    await expect(command('status').handler({ test: 1 }, callContext)).resolves.toEqual({
      payload: { test: 1 },
      tag: 'status-service',
    });
    const expected: MeshHandlerContext = { worker: WORKER, command: 'status', kind: 'balanced', ...callContext };
    expect(guardSaw).toEqual([{ type: 'mesh', data: { test: 1 }, context: expected }]);
    await expect(command('health').handler(undefined)).resolves.toBe('ok');
    await expect(command('collect').handler({})).resolves.toBe('first');
    await expect(command('ingest').handler({ n: 21 })).resolves.toBe(42);
    expect(explorer.listeners[0]!.handler({ worker: 'NodeY', variant: 'y1' })).toBe('seen');
  });

  it('an aliased provider (useExisting) is served once, not refused as a duplicate', async () => {
    const { module, explorer } = await explorerFor({
      providers: [StatusService, { provide: 'STATUS_ALIAS', useExisting: StatusService }],
    });
    await module.init();
    expect(explorer.commands.map((c) => c.name).sort()).toEqual(['collect', 'health', 'status']);
  });

  it('a worker without decorated methods has an empty table and logs no "serves" line', async () => {
    @Injectable()
    class Plain {
      work() {
        return 1;
      }
    }
    const { module, explorer, logger } = await explorerFor({ providers: [Plain] });
    await module.init();
    expect(explorer.commands).toEqual([]);
    expect(explorer.listeners).toEqual([]);
    expect(logger.at('log').filter((l) => l.includes('serves'))).toEqual([]);
  });
});

describe('SocketMeshExplorer: refusals', () => {
  it('two handlers of one command name: MESH_SCHEMA_INVALID naming both and the way out', async () => {
    @Injectable()
    class First {
      @Balanced()
      status() {
        return 1;
      }
    }
    @Injectable()
    class Second {
      @Broadcast({ name: 'status' })
      announce() {
        return 2;
      }
    }
    const { module, explorer } = await explorerFor({ providers: [First, Second] });
    const err = await initError(module);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toBe(
      `socket-mesh: worker '${WORKER}': command 'status' is declared twice, by First.status and by Second.announce; rename one with the decorator's 'name' option`,
    );
    await expect(explorer.explored).rejects.toBe(err);
  });

  it('@Balanced and @Broadcast on one method: MESH_SCHEMA_INVALID', async () => {
    @Injectable()
    class Both {
      @Balanced()
      @Broadcast()
      twice() {
        return 1;
      }
    }
    const { module } = await explorerFor({ providers: [Both] });
    const err = await initError(module);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toMatch(/Both\.twice has both @Balanced\(\) and @Broadcast\(\)/);
  });

  it('bad decorator options are refused naming the worker and the command', async () => {
    @Injectable()
    class BadOptions {
      @Broadcast({ responds: true, queued: true })
      both() {
        return 1;
      }
    }
    const { module } = await explorerFor({ providers: [BadOptions] });
    const err = await initError(module);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toContain(`'${WORKER}'`);
    expect(err.message).toContain(`command 'both'`);
  });

  it('a renamed command with a bad timeout is refused under its served name', async () => {
    @Injectable()
    class BadTimeout {
      @Balanced({ name: 'slow', timeout: -5 })
      method() {
        return 1;
      }
    }
    const { module } = await explorerFor({ providers: [BadTimeout] });
    const err = await initError(module);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toMatch(/command 'slow'.*'timeout' must be a positive finite number/);
  });

  it('an @OnMeshEvent name outside the list: MESH_SCHEMA_INVALID naming the handler', async () => {
    const loose = OnMeshEvent as (event: string) => MethodDecorator;
    @Injectable()
    class Listener {
      @loose('peer.gone')
      gone() {
        return undefined;
      }
    }
    const { module } = await explorerFor({ providers: [Listener] });
    const err = await initError(module);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toBe(
      `socket-mesh: @OnMeshEvent("peer.gone") on Listener.gone: the event must be one of 'connected', 'peer.connected', 'peer.disconnected'`,
    );
  });

  it('a request-scoped provider gets an instance per call, with the call as REQUEST; its listeners one per event', async () => {
    const built: MeshRequest[] = [];
    @Injectable({ scope: Scope.REQUEST })
    class Scoped {
      constructor(@Inject(REQUEST) private readonly request: MeshRequest) {
        built.push(request);
      }
      @Balanced()
      whoAsked(payload: { n: number }) {
        return { n: payload.n, request: this.request };
      }
      @OnMeshEvent('connected')
      connected() {
        return this.request;
      }
    }
    const { module, explorer, logger } = await explorerFor({ providers: [Scoped] });
    await module.init();
    expect(logger.at('warn')).toEqual([]);
    const whoAsked = explorer.commands.find((c) => c.name === 'whoAsked')!;
    const callContext = { caller: { worker: 'NodeA', variant: 'a1' }, metadata: { trace: 't1' } };
    const first = (await whoAsked.handler({ n: 1 }, callContext)) as { n: number; request: MeshRequest };
    const second = (await whoAsked.handler({ n: 2 }, callContext)) as { n: number; request: MeshRequest };
    expect(first).toEqual({
      n: 1,
      request: { worker: WORKER, command: 'whoAsked', kind: 'balanced', ...callContext, payload: { n: 1 } },
    });
    expect(second.request.payload).toEqual({ n: 2 });
    expect(built).toHaveLength(2);
    await expect(explorer.listeners[0]!.handler({ worker: 'NodeY', variant: 'y1' })).resolves.toEqual({
      event: 'connected',
      worker: 'NodeY',
      variant: 'y1',
    });
    expect(built).toHaveLength(3);
  });

  it('a transient provider serves its commands from a new instance per call', async () => {
    let instances = 0;
    @Injectable({ scope: Scope.TRANSIENT })
    class Transient {
      readonly id = ++instances;
      @Balanced()
      which() {
        return this.id;
      }
    }
    const { module, explorer } = await explorerFor({ providers: [Transient] });
    await module.init();
    const which = explorer.commands.find((c) => c.name === 'which')!;
    const a = await which.handler(undefined);
    const b = await which.handler(undefined);
    expect(a).not.toBe(b);
  });
});
