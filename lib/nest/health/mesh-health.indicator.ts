import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { RedisOptions } from 'ioredis';
import { MeshError, MeshErrorCode } from '../../core/errors.js';
import { MeshWorkerHost } from '../mesh-worker.host.js';
import type { ResolvedWorkerOptions } from '../socket-mesh.providers.js';
import { SOCKET_MESH_WORKER_OPTIONS } from '../socket-mesh.constants.js';
import { RedisProbe } from './redis-probe.js';

/** What `MeshHealthIndicator.isHealthy(key, options)` checks besides the manager link. */
export interface MeshHealthCheckOptions {
  /** Worker name → the fewest connected instances this worker must have of it: `{ NodeB: 1 }`. */
  workers?: Readonly<Record<string, number>>;
  /**
   * The Redis queues: checked (PING) when this worker has queued commands and a `redis` option.
   * Give a URL or ioredis options to check another connection (one set with `BullModule.forRoot()`),
   * or `false` to skip.
   */
  redis?: string | RedisOptions | false;
  /** ms a Redis PING may take (default 1000). */
  timeout?: number;
  /** Check the manager link (default true). A worker keeps serving its peers while the manager is away. */
  manager?: boolean;
}

interface WorkerCount {
  connected: number;
  required: number;
}

/**
 * `@nestjs/terminus` indicator for a worker app: up when this worker is registered with the
 * manager, has at least the required connected instances of the named workers, and reaches
 * Redis when its queues live there. Import it from 'socket-mesh/terminus'; declare it in a
 * module that imports `TerminusModule`.
 */
@Injectable()
export class MeshHealthIndicator implements OnModuleDestroy {
  private readonly probes = new Map<string, RedisProbe>();

  private worker: { host: MeshWorkerHost; options: ResolvedWorkerOptions } | undefined;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async isHealthy<const Key extends string>(key: Key, options: MeshHealthCheckOptions = {}): Promise<HealthIndicatorResult<Key>> {
    const session = this.health.check(key);
    const { host } = this.workerHost();
    const node = host.readyNode();
    if (!node) return session.down({ message: `worker '${host.worker}' has not started`, manager: 'down' });
    const problems: string[] = [];
    const data: Record<string, unknown> = {};
    if (options.manager !== false) {
      const up = node.managerConnected;
      data.manager = up ? 'up' : 'down';
      if (!up) problems.push('not registered with the manager');
    }
    if (options.workers) {
      const workers: Record<string, WorkerCount> = {};
      for (const [worker, required] of Object.entries(options.workers)) {
        const connected = new Set(node.peers(worker).map((p) => p.variant)).size;
        workers[worker] = { connected, required };
        if (connected < required) problems.push(`${worker}: ${connected} of ${required} instances connected`);
      }
      data.workers = workers;
    }
    const redis = this.redisTarget(
      options,
      Object.values(node.commands).some((c) => c.queued),
    );
    if (redis !== undefined) {
      try {
        await this.probe(redis).ping(options.timeout ?? 1000);
        data.redis = 'up';
      } catch (err) {
        data.redis = 'down';
        problems.push(`redis: ${(err as Error).message}`);
      }
    }
    if (problems.length === 0) return session.up(data);
    return session.down({ ...data, message: problems.join('; ') });
  }

  async onModuleDestroy(): Promise<void> {
    const probes = [...this.probes.values()];
    this.probes.clear();
    await Promise.all(probes.map((p) => p.close()));
  }

  private redisTarget(options: MeshHealthCheckOptions, queues: boolean): string | RedisOptions | undefined {
    if (options.redis === false) return undefined;
    if (options.redis !== undefined) return options.redis;
    return queues ? this.workerHost().options.redis : undefined;
  }

  /**
   * The worker module's internals, looked up across modules (they are not exported to the app):
   * the indicator works wherever the app declares it.
   */
  private workerHost(): { host: MeshWorkerHost; options: ResolvedWorkerOptions } {
    if (!this.worker) {
      try {
        this.worker = {
          host: this.moduleRef.get(MeshWorkerHost, { strict: false }),
          options: this.moduleRef.get<ResolvedWorkerOptions>(SOCKET_MESH_WORKER_OPTIONS, { strict: false }),
        };
      } catch {
        throw new MeshError(
          MeshErrorCode.SCHEMA_INVALID,
          'MeshHealthIndicator needs SocketMeshModule.forWorker() (or forWorkerAsync()) in the app',
        );
      }
    }
    return this.worker;
  }

  private probe(target: string | RedisOptions): RedisProbe {
    const id = typeof target === 'string' ? target : JSON.stringify(target);
    let probe = this.probes.get(id);
    if (!probe) this.probes.set(id, (probe = new RedisProbe(target)));
    return probe;
  }
}
