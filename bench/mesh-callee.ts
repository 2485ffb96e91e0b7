/**
 * A socket-mesh callee process: one MeshNode (worker NodeB by default) declaring the bench
 * commands. With `deferStart` the node is built but only started (listen, register) by the
 * `startNode` op, so the idle-memory rows can read a settled baseline before any link exists.
 */
import type { LocalCommand } from '../lib/core/command-spec.js';
import { silentLogger } from '../lib/core/logger.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import type { QueueBackend } from '../lib/core/queue/command-queue.js';
import { createMemoryQueueBackend } from '../lib/core/queue/memory-queue.js';
import { createRedisQueueBackend } from '../lib/core/queue/redis-queue.js';
import { CalleeMeter } from './callee-meter.js';
import { BENCH_KEYS, CALLEE_WORKER, COMMAND } from './config.js';
import { childConfig, serve, startChild } from './ipc.js';
import { routeQueues } from './queue-router.js';

export interface MeshCalleeConfig {
  managerPort: number;
  worker?: string;
  allow: string[];
  /** Declare the Redis-queued command, its queues in Redis under this BullMQ prefix. */
  redis?: { host: string; port: number; prefix: string };
  /** Wait for the `startNode` op before starting the node. */
  deferStart?: boolean;
}

export interface MeshCalleeReady {
  variant: string;
}

const config = childConfig<MeshCalleeConfig>();
const meter = new CalleeMeter();
let node: MeshNode | undefined;

startChild(async (): Promise<MeshCalleeReady> => {
  const memory = createMemoryQueueBackend({ logger: silentLogger });
  const queues: QueueBackend = config.redis
    ? routeQueues(
        {
          [COMMAND['queued-redis']]: createRedisQueueBackend({
            redis: { host: config.redis.host, port: config.redis.port },
            prefix: config.redis.prefix,
            logger: silentLogger,
          }),
        },
        memory,
      )
    : memory;
  const commands: LocalCommand[] = [
    {
      name: COMMAND.balanced,
      kind: 'balanced' as const,
      responds: false,
      queued: false,
      handler: (p: unknown) => (meter.handled(), { status: `ok ${(p as { test: string }).test}` }),
    },
    {
      name: COMMAND.responding,
      kind: 'broadcast' as const,
      responds: true,
      queued: false,
      handler: (p: unknown) => (meter.handled(), { command: (p as { test: string }).test }),
    },
    { name: COMMAND.plain, kind: 'broadcast' as const, responds: false, queued: false, handler: () => void meter.handled() },
    {
      name: COMMAND['queued-memory'],
      kind: 'broadcast' as const,
      responds: false,
      queued: true,
      handler: () => void meter.handled(),
    },
  ];
  if (config.redis) {
    commands.push({
      name: COMMAND['queued-redis'],
      kind: 'broadcast' as const,
      responds: false,
      queued: true,
      handler: () => void meter.handled(),
    });
  }
  node = new MeshNode({
    worker: config.worker ?? CALLEE_WORKER,
    manager: { host: '127.0.0.1', port: config.managerPort },
    bindHost: '127.0.0.1',
    allow: config.allow,
    connect: [],
    commands,
    queues,
    ...BENCH_KEYS,
    logger: silentLogger,
  });
  node.on('peer.connected', (p: { direction?: string }) => p.direction === 'incoming' && meter.connected());
  node.on('peer.disconnected', (p: { direction?: string }) => p.direction === 'incoming' && meter.disconnected());
  if (!config.deferStart) await startNode();
  return { variant: node.variant };
});

async function startNode(): Promise<void> {
  await node!.start();
  await node!.ready();
}

serve({ ...meter.handlers(), startNode }, async () => {
  await node?.close();
});
