/**
 * A QueueBackend that sends some commands' queues to one backend and the rest to another, so a
 * single bench callee can serve the memory-queued and the Redis-queued rows side by side.
 * Built only on the public QueueBackend interface of lib/core.
 */
import type { MeshKeys } from '../lib/core/crypto/mesh-keys.js';
import type { CommandQueue, QueueBackend, QueueHandler, QueueTarget } from '../lib/core/queue/command-queue.js';

export function routeQueues(byCommand: Record<string, QueueBackend>, fallback: QueueBackend): QueueBackend {
  const all = [...new Set([...Object.values(byCommand), fallback])];
  return {
    kind: fallback.kind,
    open(target: QueueTarget, handler: QueueHandler, keys?: MeshKeys): CommandQueue {
      const backend = Object.hasOwn(byCommand, target.command) ? byCommand[target.command] : fallback;
      return backend.open(target, handler, keys);
    },
    async close(): Promise<void> {
      await Promise.all(all.map((backend) => backend.close()));
    },
  };
}
