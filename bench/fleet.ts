/**
 * The processes of the call benchmarks, both sides started together so their runs can be
 * interleaved: a Manager (in the runner: it is not in the call path), one socket-mesh caller
 * and one raw caller, and the callees — one per side at first (balanced rows), three per side
 * after `grow()` (broadcast and queued rows).
 */
import { Manager } from '../lib/core/manager.js';
import { BENCH_KEYS, CALLER_WORKER, managerLogger, type Target } from './config.js';
import { BenchChild } from './ipc.js';
import type { MeshCalleeConfig, MeshCalleeReady } from './mesh-callee.js';
import type { MeshCallerConfig } from './mesh-caller.js';
import type { RawCalleeReady } from './raw-callee.js';
import type { RawCallerReady } from './raw-caller.js';

export type Impl = 'mesh' | 'raw';

export interface FleetOptions {
  /** Redis for the queued-redis rows (absent: those rows are skipped). `prefix` namespaces every BullMQ key of the run. */
  redis?: { host: string; port: number; prefix: string };
  /** Extra node flags per process name (profiling). */
  execArgv?: (name: string) => string[];
}

const PEER_TIMEOUT_MS = 15_000;

/** The BullMQ queue of raw callee `index` (0-based). */
function rawQueueName(index: number): string {
  return `rawbench.ingest.${index + 1}`;
}

export class Fleet {
  readonly meshCallees: BenchChild[] = [];
  readonly rawCallees: BenchChild[] = [];
  private rawCalleePorts: number[] = [];

  private constructor(
    readonly manager: Manager,
    readonly meshCaller: BenchChild,
    readonly rawCaller: BenchChild,
    private readonly broadcastPort: number,
    private readonly options: FleetOptions,
  ) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const manager = new Manager({ ...BENCH_KEYS, port: 0, host: '127.0.0.1', logger: managerLogger() });
    await manager.ready();
    const argv = (name: string) => ({ execArgv: options.execArgv?.(name) ?? [] });
    const [meshCaller, rawCaller] = await Promise.all([
      BenchChild.start(
        'mesh-caller',
        'mesh-caller',
        { managerPort: manager.port } satisfies MeshCallerConfig,
        argv('mesh-caller'),
      ),
      BenchChild.start<RawCallerReady>('raw-caller', 'raw-caller', {}, argv('raw-caller')),
    ]);
    const fleet = new Fleet(manager, meshCaller.child, rawCaller.child, rawCaller.ready.broadcastPort, options);
    await fleet.addCallees(1);
    await fleet.rawCaller.request('connect', { port: fleet.rawCalleePorts[0] });
    await fleet.meshCaller.request('waitPeers', { n: 1, timeoutMs: PEER_TIMEOUT_MS });
    return fleet;
  }

  /** Three callees per side; the raw ones join the raw caller's broadcast server, the raw caller opens their BullMQ queues. */
  async grow(): Promise<void> {
    await this.addCallees(3 - this.meshCallees.length);
    await Promise.all(this.rawCallees.map((callee) => callee.request('join', { port: this.broadcastPort })));
    await this.rawCaller.request('waitClients', { n: 3, timeoutMs: PEER_TIMEOUT_MS });
    await this.meshCaller.request('waitPeers', { n: 3, timeoutMs: PEER_TIMEOUT_MS });
    const redis = this.options.redis;
    if (redis) {
      const names = this.rawCallees.map((_, i) => rawQueueName(i));
      await this.rawCaller.request('bullmq', { names, prefix: redis.prefix, host: redis.host, port: redis.port });
    }
  }

  caller(impl: Impl): BenchChild {
    return impl === 'mesh' ? this.meshCaller : this.rawCaller;
  }

  callees(impl: Impl): BenchChild[] {
    return impl === 'mesh' ? this.meshCallees : this.rawCallees;
  }

  supports(target: Target): boolean {
    return target !== 'queued-redis' || this.options.redis !== undefined;
  }

  /** Stops every process (each must exit by itself) and the manager; false if one had to be killed or failed. */
  async stop(): Promise<boolean> {
    const children = [this.meshCaller, this.rawCaller, ...this.meshCallees, ...this.rawCallees];
    // Callers first, so no callee sees its callers vanish mid-call.
    const callersOk = await Promise.all(children.slice(0, 2).map((c) => c.stop()));
    const calleesOk = await Promise.all(children.slice(2).map((c) => c.stop()));
    await this.manager.close();
    return [...callersOk, ...calleesOk].every(Boolean);
  }

  private async addCallees(count: number): Promise<void> {
    const argv = (name: string) => ({ execArgv: this.options.execArgv?.(name) ?? [] });
    const base = this.meshCallees.length;
    const started = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        Promise.all([
          BenchChild.start<MeshCalleeReady>(
            `mesh-callee-${base + i + 1}`,
            'mesh-callee',
            { managerPort: this.manager.port, allow: [CALLER_WORKER], redis: this.options.redis } satisfies MeshCalleeConfig,
            argv(`mesh-callee-${base + i + 1}`),
          ),
          BenchChild.start<RawCalleeReady>(`raw-callee-${base + i + 1}`, 'raw-callee', {}, argv(`raw-callee-${base + i + 1}`)),
        ]),
      ),
    );
    for (const [mesh, raw] of started) {
      this.meshCallees.push(mesh.child);
      this.rawCallees.push(raw.child);
      this.rawCalleePorts.push(raw.ready.port);
    }
    // A mesh callee runs its BullMQ worker from its start (its queued commands open then): the
    // raw callee runs its own from the start too, so both carry the same background load.
    const redis = this.options.redis;
    if (redis) {
      await Promise.all(
        started.map(([, raw], i) =>
          raw.child.request('bullmq', {
            queue: rawQueueName(base + i),
            prefix: redis.prefix,
            host: redis.host,
            port: redis.port,
          }),
        ),
      );
    }
  }
}
