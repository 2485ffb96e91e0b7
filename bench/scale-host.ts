/**
 * One host process of the scale bench: `count` SocketNode instances of one worker name. On
 * `start` it builds them all at once, then reports when every one has registered and when every
 * caller has a ready link to each of the `expectPeers` callee instances.
 */
import { SocketNode } from '../lib/core/socket-node.js';
import { silentLogger } from '../lib/core/logger.js';
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

const schema = {
  NodeA: { _allow: [], _connect: ['NodeB'], _commands: {} },
  NodeB: { _allow: ['NodeA'], _connect: [], _commands: { _balanced: { status: () => ({ ok: true }) } } },
};

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
            logger: silentLogger,
          }),
        );
      }
      await Promise.all(nodes.map((n) => n.ready()));
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
  },
  async () => {
    await Promise.all(nodes.map((n) => n.close()));
  },
);
