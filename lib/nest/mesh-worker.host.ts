import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { prefetchMeshKeys } from '../core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../core/errors.js';
import type { MeshLogger } from '../core/logger.js';
import { MeshNode, type MeshEventPayload } from '../core/mesh-node.js';
import { createQueueBackend } from '../core/options/queue-backend.js';
import type { QueueBackend } from '../core/queue/command-queue.js';
import { callSafely } from '../core/safe-callback.js';
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
    // scrypt (tens of ms on the thread pool) runs while Nest builds the rest of the app; the node,
    // made at bootstrap, then finds the keys derived instead of starting on them.
    prefetchMeshKeys(options.publicKey, options.privateKey);
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
    const node = new MeshNode({ ...o, commands: this.explorer.commands, logger: this.meshLogger, queues });
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
          callSafely(
            () => listener.handler({ ...payload }),
            (err) => this.listenerFailed(listener.label, event, err),
          );
        }
      });
    }
  }

  private listenerFailed(label: string, event: string, err: unknown): void {
    this.logger.error(
      `@OnMeshEvent('${event}') ${label} failed: ${err instanceof Error ? err.message : String(err)}`,
      (err as Error)?.stack,
    );
  }

  /**
   * `redis` given: BullMQ queues on it. Else, when the app configured `BullModule.forRoot()`
   * from @nestjs/bullmq (optional package, imported on demand), its default connection. Else
   * memory queues (the choice itself is the core's). The node closes the backend.
   */
  private async createQueues(): Promise<QueueBackend> {
    const { redis, queue } = this.options;
    const logger = this.meshLogger;
    // Without a queued command nothing is ever queued: no Redis connection for nothing.
    if (!this.explorer.commands.some((c) => c.queued)) return createQueueBackend({ queue, logger });
    if (redis !== undefined) return createQueueBackend({ redis, queue, logger });
    const config = await this.bullSharedConfig();
    const connection = config?.connection;
    if (typeof connection !== 'object' || connection === null) return createQueueBackend({ queue, logger });
    this.logger.log(`queued commands of '${this.options.worker}' use the BullModule.forRoot() Redis connection`);
    const prefix = typeof config?.prefix === 'string' ? config.prefix : undefined;
    return createQueueBackend({ shared: { connection, ...(prefix === undefined ? {} : { prefix }) }, queue, logger });
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
