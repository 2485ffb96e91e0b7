import type { LocalCommand } from '../command-spec.js';
import type { ManagerAddress } from '../link-address.js';
import type { QueueBackend } from '../queue/command-queue.js';

/**
 * The one line a node logs when it starts: who it is, where peers reach it, which manager it
 * registers with and where its queued commands are kept, so a log read later answers
 * "which instance was this and how was it set up" without the config at hand.
 */
export function startLine(
  worker: string,
  variant: string,
  meshPort: number,
  manager: ManagerAddress | readonly ManagerAddress[],
  commands: readonly LocalCommand[],
  queues: QueueBackend,
): string {
  const managerText = (Array.isArray(manager) ? (manager as readonly ManagerAddress[]) : [manager as ManagerAddress])
    .map((m) => ('url' in m ? m.url : `${m.host}:${m.port}`))
    .join(', ');
  const queued = commands.filter((c) => c.queued).length;
  const queueText =
    queued === 0 ? 'none (no queued command)' : `${queues.kind} (${queued} queued command${queued === 1 ? '' : 's'})`;
  return `started worker ${worker}, variant ${variant}, mesh port ${meshPort}, manager ${managerText}, queue backend ${queueText}`;
}
