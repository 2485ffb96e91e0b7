import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MeshError, MeshErrorCode } from '../core/errors.js';
import type { MeshLogger } from '../core/logger.js';
import { MeshNode, type MeshEventPayload } from '../core/mesh-node.js';
import type { QueueBackend } from '../core/queue/command-queue.js';
import { createMemoryQueueBackend } from '../core/queue/memory-queue.js';
import { createLazyRedisQueueBackend } from '../core/queue/lazy-redis-queue.js';
import type { RedisConnectionOption } from '../core/queue/redis-queue.js';
import { createNestMeshLogger } from './nest-mesh-logger.js';
import { SocketMeshExplorer } from './socket-mesh.explorer.js';
import type { ResolvedWorkerOptions } from './socket-mesh.providers.js';
import { MESH_EVENTS, SOCKET_MESH_LOGGER_CONTEXT, SOCKET_MESH_WORKER_OPTIONS } from './socket-mesh.constants.js';

/**
 * Owns this app's MeshNode. The node is created and started once the explorer built the
 * command table: at `onApplicationBootstrap`, or earlier when a MeshClient call asks for it.
 * Bootstrap waits only for the mesh server to listen, never for the manager. The node closes
 * (drains, then releases every socket, timer and queue) at `onModuleDestroy`, so `app.close()`
 * leaves no open handle.
 */
@Injectable()
export class MeshWorkerHost implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(SOCKET_MESH_LOGGER_CONTEXT);
  private readonly meshLogger: MeshLogger = createNestMeshLogger(this.logger);
  private starting: Promise<MeshNode> | undefined;
  private current: MeshNode | undefined;
  private listening = false;
  private closing: Promise<void> | undefined;
  private abort!: (err: MeshError) => void;
  private readonly aborted: Promise<never>;

  constructor(
    @Inject(SOCKET_MESH_WORKER_OPTIONS) private readonly options: ResolvedWorkerOptions,
    private readonly explorer: SocketMeshExplorer,
    private readonly moduleRef: ModuleRef,
  ) {
    this.aborted = new Promise<never>((_resolve, reject) => {
      this.abort = reject;
    });
    this.aborted.catch(() => undefined);
  }

  /** This worker's name. */
  get worker(): string {
    return this.options.worker;
  }

  /** The node once it was created (it may still be starting), else undefined. */
  get node(): MeshNode | undefined {
    return this.current;
  }

  /** The node when it is started (its mesh server listens) and not closing, else undefined. */
  readyNode(): MeshNode | undefined {
    return this.listening && !this.closing ? this.current : undefined;
  }

  /** The default call timeout of this worker (ms). */
  get timeout(): number {
    return this.options.timeout;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.started();
  }

  /** The started node (its mesh server listens); starts it if nobody did yet. */
  started(): Promise<MeshNode> {
    if (this.closing) return Promise.reject(this.closedError());
    this.starting ??= Promise.race([this.explorer.explored, this.aborted]).then(() => this.start());
    return this.starting;
  }

  /**
   * `started()`, bounded: an app that is never initialised (a TestingModule compiled but not
   * `init()`ed, say) must not leave a call waiting forever.
   */
  async startedWithin(ms: number, what: { worker: string; command: string }): Promise<MeshNode> {
    const ready = this.readyNode();
    if (ready) return ready;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MeshError(
              MeshErrorCode.TIMEOUT,
              `worker '${this.options.worker}' did not start within ${ms} ms (was the Nest app initialised?)`,
              what,
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([this.started(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.abort(this.closedError());
    const node = this.current ?? (await this.starting?.catch(() => undefined));
    await node?.close();
  }

  private closedError(): MeshError {
    return new MeshError(MeshErrorCode.CLOSED, `worker '${this.options.worker}' is shutting down`);
  }

  private async start(): Promise<MeshNode> {
    if (this.closing) throw this.closedError();
    const o = this.options;
    const queues = await this.createQueues();
    if (this.closing) {
      await queues.close();
      throw this.closedError();
    }
    const node = new MeshNode({
      worker: o.worker,
      variant: o.instanceId,
      manager: o.manager,
      meshPort: o.meshPort,
      bindHost: o.bindHost,
      advertiseHost: o.advertiseHost,
      allow: o.allow,
      connect: o.connect,
      commands: this.explorer.commands,
      publicKey: o.publicKey,
      privateKey: o.privateKey,
      logger: this.meshLogger,
      queues,
      timeout: o.timeout,
      maxFrameSize: o.maxFrameSize,
      handshakeTimeout: o.handshakeTimeout,
      maxInFlight: o.maxInFlight,
      maxPending: o.maxPending,
      drainTimeout: o.drainTimeout,
    });
    this.current = node;
    this.subscribe(node);
    try {
      await node.start();
    } catch (err) {
      await node.close().catch(() => undefined);
      throw err;
    }
    this.listening = true;
    // Registration happens in the background; a refusal (wrong keys, schema) is logged by the core.
    return node;
  }

  private subscribe(node: MeshNode): void {
    for (const event of MESH_EVENTS) {
      const listeners = this.explorer.listeners.filter((l) => l.event === event);
      if (listeners.length === 0) continue;
      node.on(event, (payload: MeshEventPayload) => {
        for (const listener of listeners) {
          try {
            const result = listener.handler({ ...payload });
            if (result instanceof Promise) result.catch((err: unknown) => this.listenerFailed(listener.label, event, err));
          } catch (err) {
            this.listenerFailed(listener.label, event, err);
          }
        }
      });
    }
  }

  private listenerFailed(label: string, event: string, err: unknown): void {
    this.logger.error(`@OnMeshEvent('${event}') ${label} failed: ${err instanceof Error ? err.message : String(err)}`, (err as Error)?.stack);
  }

  /**
   * `redis` given: BullMQ queues on it. Else, when the app configured `BullModule.forRoot()`
   * from @nestjs/bullmq (optional package, imported on demand), its default connection. Else
   * memory queues. The node closes the backend.
   */
  private async createQueues(): Promise<QueueBackend> {
    const { redis, queue } = this.options;
    // Without a queued command nothing is ever queued: no Redis connection for nothing.
    if (!this.explorer.commands.some((c) => c.queued)) return createMemoryQueueBackend({ logger: this.meshLogger });
    if (redis !== undefined) {
      return createLazyRedisQueueBackend({
        redis: redis as RedisConnectionOption,
        attempts: queue.attempts,
        backoff: queue.backoff,
        logger: this.meshLogger,
      });
    }
    const shared = await this.bullSharedConfig();
    const connection = shared?.connection;
    if (typeof connection === 'object' && connection !== null) {
      this.logger.log(`queued commands of '${this.options.worker}' use the BullModule.forRoot() Redis connection`);
      // BullMQ takes a client or connection options; the core reuses a client, dials options itself.
      const isClient = typeof (connection as { duplicate?: unknown }).duplicate === 'function';
      return createLazyRedisQueueBackend({
        ...(isClient ? { connection } : { redis: connection as RedisConnectionOption }),
        prefix: typeof shared?.prefix === 'string' ? shared.prefix : undefined,
        attempts: queue.attempts,
        backoff: queue.backoff,
        logger: this.meshLogger,
      });
    }
    return createMemoryQueueBackend({ maxPending: queue.maxPending, logger: this.meshLogger });
  }

  private async bullSharedConfig(): Promise<{ connection?: unknown; prefix?: unknown } | undefined> {
    try {
      const bull = await import('@nestjs/bullmq');
      const config: unknown = this.moduleRef.get(bull.getSharedConfigToken(), { strict: false });
      return typeof config === 'object' && config !== null ? (config as { connection?: unknown; prefix?: unknown }) : undefined;
    } catch {
      return undefined; // @nestjs/bullmq not installed, or no BullModule.forRoot() in this app
    }
  }
}
