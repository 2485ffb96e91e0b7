/**
 * The caller side of the idle-connection memory rows: `n` callers in one process, each holding
 * one idle link to the same callee. Every op answers with the process's settled memory.
 * - mesh: `n` MeshNodes (one worker name, distinct variants). `startNodes` starts and registers
 *   them while the callee is not registered yet, so its memory holds the nodes but no link;
 *   `waitLinks` answers once every node's link to the callee is ready.
 * - raw: `connectAll` opens `n` socket.io clients (websocket transport) to the raw callee.
 */
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { silentLogger } from '../lib/core/logger.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { BENCH_KEYS, settledMemory, sleep, waitUntil } from './config.js';
import { childConfig, serve, startChild } from './ipc.js';

export interface IdleCallersConfig {
  mode: 'mesh' | 'raw';
  n: number;
  /** mesh only */
  managerPort?: number;
  worker?: string;
  target?: string;
}

const config = childConfig<IdleCallersConfig>();
const nodes: MeshNode[] = [];
const clients: ClientSocket[] = [];

startChild(async () => ({}));

serve(
  {
    memory: async ({ settleMs }: { settleMs: number }) => {
      await sleep(settleMs);
      return settledMemory();
    },
    startNodes: async ({ settleMs }: { settleMs: number }) => {
      for (let i = 0; i < config.n; i++) {
        nodes.push(
          new MeshNode({
            worker: config.worker!,
            manager: { host: '127.0.0.1', port: config.managerPort! },
            bindHost: '127.0.0.1',
            allow: [],
            connect: [config.target!],
            commands: [],
            ...BENCH_KEYS,
            logger: silentLogger,
          }),
        );
      }
      await Promise.all(nodes.map((node) => node.start()));
      await Promise.all(nodes.map((node) => node.ready()));
      await sleep(settleMs);
      return settledMemory();
    },
    waitLinks: async ({ timeoutMs, settleMs }: { timeoutMs: number; settleMs: number }) => {
      const linked = () => nodes.filter((node) => node.peers(config.target).length === 1).length;
      await waitUntil(() => linked() === nodes.length, timeoutMs, `${nodes.length} links (have ${linked()})`);
      await sleep(settleMs);
      return settledMemory();
    },
    connectAll: async ({ port, timeoutMs, settleMs }: { port: number; timeoutMs: number; settleMs: number }) => {
      for (let i = 0; i < config.n; i++) clients.push(connect(`http://127.0.0.1:${port}`, { transports: ['websocket'] }));
      await waitUntil(() => clients.every((c) => c.connected), timeoutMs, `${config.n} raw clients connected`);
      await sleep(settleMs);
      return settledMemory();
    },
  },
  async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(nodes.map((node) => node.close()));
  },
);
