/**
 * One host process of the scale bench: `count` SocketNode instances of one worker name. On
 * `start` it builds them all at once, then reports when every one has registered and when every
 * caller has a ready link to each of the `expectPeers` callee instances.
 */
import { SocketNode } from '../lib/core/socket-node.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MeshLogger } from '../lib/core/logger.js';
import { BENCH_KEYS } from './config.js';
import { childConfig, serve, startChild } from './ipc.js';

export interface ScaleHostConfig {
  worker: 'NodeA' | 'NodeB';
  count: number;
  prefix: string;
}

export interface ScaleStartArgs {
  managerPort: number;
  /** Callee instances each NodeA must be linked to before it counts as linked. */
  expectPeers: number;
}

export interface ScaleHostReport {
  registeredMs: number;
  linkedMs: number;
}

const config = childConfig<ScaleHostConfig>();
const nodes: SocketNode[] = [];
let registered = 0;
/** Peer links that came up and went down in this process (outgoing and incoming), while linking. */
const linkEvents = { up: 0, down: 0 };
/** What the instances logged, by shape (names and numbers blanked): why links did or did not come up. */
const logged = new Map<string, number>();
const count = (level: string) => (message: string) => {
  const shape = `${level} ${message
    .replace(/[\w.-]+\/[\w.-]+/g, '<peer>')
    .replace(/\d+/g, '#')
    .slice(0, 120)}`;
  logged.set(shape, (logged.get(shape) ?? 0) + 1);
};
const countingLogger: MeshLogger = {
  trace() {},
  debug: count('debug'),
  info: count('info'),
  warn: count('warn'),
  error: count('error'),
};
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

const schema = {
  NodeA: { _allow: [], _connect: ['NodeB'], _commands: {} },
  NodeB: { _allow: ['NodeA'], _connect: [], _commands: { _balanced: { status: () => ({ ok: true }) } } },
};

/** CPU time this process used so far (user + system), ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function linked(expectPeers: number): Promise<void> {
  if (config.worker !== 'NodeA') return;
  return new Promise<void>((resolve) => {
    const check = () => {
      if (nodes.every((n) => n.peers('NodeB').length >= expectPeers)) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}

startChild(async () => ({ pid: process.pid }));

serve(
  {
    async start({ managerPort, expectPeers }: ScaleStartArgs): Promise<ScaleHostReport> {
      const t0 = performance.now();
      for (let i = 0; i < config.count; i++) {
        nodes.push(
          new SocketNode({
            worker: config.worker,
            variant: `${config.prefix}-${i}`,
            schema,
            ...BENCH_KEYS,
            ip: '127.0.0.1',
            port: managerPort,
            logger: countingLogger,
            // All callers share 127.0.0.1, where a real fleet has one address per host: the
            // per-address pace is what 10 caller hosts at the default 100/s would get.
            handshakesPerSecond: 1000,
            onConnection: () => linkEvents.up++,
            onDisconnection: () => linkEvents.down++,
          }),
        );
      }
      await Promise.all(nodes.map((n) => n.ready().then(() => registered++)));
      const registeredMs = performance.now() - t0;
      await linked(expectPeers);
      return { registeredMs, linkedMs: performance.now() - t0 };
    },
    /** Every instance registered again (after a manager restart): resolves with the time it took from `since`. */
    async call({ n }: { n: number }): Promise<number> {
      const t0 = performance.now();
      const caller = nodes[0]!;
      for (let i = 0; i < n; i++) await caller.call.NodeB!.status!.call({});
      return performance.now() - t0;
    },
    rss: () => process.memoryUsage().rss,
    /** CPU time this process used so far (user + system), ms. */
    cpu: () => cpuMs(),
    /** Where a run that did not finish stands: instances registered, and callee links ready in all. */
    progress: () => ({
      registered,
      cpuS: Math.round(cpuMs() / 100) / 10,
      loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6),
      logged: [...logged].sort((a, b) => b[1] - a[1]).slice(0, 8),
      linkEvents,
      links: config.worker === 'NodeA' ? nodes.reduce((sum, n) => sum + n.peers('NodeB').length, 0) : 0,
    }),
  },
  async () => {
    await Promise.all(nodes.map((n) => n.close()));
  },
);
