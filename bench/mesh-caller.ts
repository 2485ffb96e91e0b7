/**
 * The socket-mesh caller process: one MeshNode (NodeA, connect ['NodeB']) driving the load of
 * `caller.ts` through `node.call(...)`.
 */
import { silentLogger } from '../lib/core/logger.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { serveCaller } from './caller.js';
import { BENCH_KEYS, CALLEE_WORKER, CALLER_WORKER, COMMAND, PAYLOADS, waitUntil } from './config.js';
import { childConfig, startChild } from './ipc.js';

export interface MeshCallerConfig {
  managerPort: number;
}

const config = childConfig<MeshCallerConfig>();
const node = new MeshNode({
  worker: CALLER_WORKER,
  manager: { host: '127.0.0.1', port: config.managerPort },
  bindHost: '127.0.0.1',
  allow: [],
  connect: [CALLEE_WORKER],
  commands: [],
  ...BENCH_KEYS,
  logger: silentLogger,
});

startChild(async () => {
  await node.start();
  await node.ready();
  return { variant: node.variant };
});

serveCaller(
  (target, payload) => {
    const command = COMMAND[target];
    const value = PAYLOADS[payload];
    // The default timeout (10 s), as a plain `call` has it.
    return () => node.call(CALLEE_WORKER, command, value);
  },
  {
    /** Resolves once exactly `n` NodeB instances are connected. */
    waitPeers: ({ n, timeoutMs }: { n: number; timeoutMs: number }) =>
      waitUntil(
        () => node.peers(CALLEE_WORKER).length === n,
        timeoutMs,
        `${n} ${CALLEE_WORKER} peers (have ${node.peers(CALLEE_WORKER).length})`,
      ),
  },
  () => node.close(),
);
