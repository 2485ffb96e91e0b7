/**
 * Memory of idle peer connections: `peers` caller links to one callee, fresh processes each
 * round. Per side, the growth the links caused (settled, after a full GC) divided by the links:
 * resident set (RSS, what the issue's target is about; it moves in steps of V8 and malloc
 * chunks, so a single round is noisy) and JS heap + external buffers (what the link objects
 * retain; steady).
 *
 * Baselines, both taken settled and before any link exists:
 * - socket-mesh: the callers (n MeshNodes in one process) are started and registered while the
 *   callee has not started its node yet, so their baseline holds the nodes themselves; the
 *   callee's baseline is taken just before it starts its node (its own listen and manager link,
 *   a few hundred KiB, are then counted with its links: a small bias against socket-mesh).
 * - raw: the callee's socket.io server listens; the callers' process has socket.io-client loaded.
 */
import type { Manager } from '../lib/core/manager.js';
import type { Memory } from './config.js';
import type { Impl } from './fleet.js';
import type { IdleCallersConfig } from './idle-callers.js';
import { BenchChild } from './ipc.js';
import type { MeshCalleeConfig } from './mesh-callee.js';
import type { RawCalleeReady } from './raw-callee.js';

export interface IdleMetrics {
  calleeRssKiBPerLink: number;
  callerRssKiBPerLink: number;
  /** JS heap + external, both sides, per link. */
  heapKiBPerLink: number;
  /** RSS growth of both sides for all links, MiB. */
  totalRssMiB: number;
}

const TIMEOUT_MS = 30_000;
const SETTLE_MS = 300;
const settle = { settleMs: SETTLE_MS };

export async function measureIdle(manager: Manager, impl: Impl, peers: number, round: number): Promise<IdleMetrics> {
  const callee: BenchChild[] = [];
  const callers: BenchChild[] = [];
  try {
    let calleeBase: Memory;
    let callerBase: Memory;
    let callerLinked: Memory;
    if (impl === 'mesh') {
      const target = `Idle${round}`;
      const worker = `IdleCaller${round}`;
      const started = await BenchChild.start('idle-mesh-callee', 'mesh-callee', {
        managerPort: manager.port,
        worker: target,
        allow: [worker],
        deferStart: true,
      } satisfies MeshCalleeConfig);
      callee.push(started.child);
      const c = await BenchChild.start('idle-mesh-callers', 'idle-callers', {
        mode: 'mesh',
        n: peers,
        managerPort: manager.port,
        worker,
        target,
      } satisfies IdleCallersConfig);
      callers.push(c.child);
      callerBase = await c.child.request<Memory>('startNodes', settle, TIMEOUT_MS);
      calleeBase = await started.child.request<Memory>('memory', settle);
      await started.child.request('startNode', undefined, TIMEOUT_MS);
      callerLinked = await c.child.request<Memory>('waitLinks', { ...settle, timeoutMs: TIMEOUT_MS }, TIMEOUT_MS + 5_000);
    } else {
      const started = await BenchChild.start<RawCalleeReady>('idle-raw-callee', 'raw-callee', {});
      callee.push(started.child);
      const c = await BenchChild.start('idle-raw-callers', 'idle-callers', { mode: 'raw', n: peers } satisfies IdleCallersConfig);
      callers.push(c.child);
      calleeBase = await started.child.request<Memory>('memory', settle);
      callerBase = await c.child.request<Memory>('memory', settle);
      callerLinked = await c.child.request<Memory>(
        'connectAll',
        { ...settle, port: started.ready.port, timeoutMs: TIMEOUT_MS },
        TIMEOUT_MS + 5_000,
      );
    }
    await callee[0].request('waitConnections', { n: peers, timeoutMs: TIMEOUT_MS }, TIMEOUT_MS + 5_000);
    const calleeLinked = await callee[0].request<Memory>('memory', settle);
    const calleeRss = calleeLinked.rss - calleeBase.rss;
    const callerRss = callerLinked.rss - callerBase.rss;
    const heap = calleeLinked.heap - calleeBase.heap + (callerLinked.heap - callerBase.heap);
    return {
      calleeRssKiBPerLink: calleeRss / peers / 1024,
      callerRssKiBPerLink: callerRss / peers / 1024,
      heapKiBPerLink: heap / peers / 1024,
      totalRssMiB: (calleeRss + callerRss) / 1024 / 1024,
    };
  } finally {
    // Callers first: the callee then sees its links close, not its callers vanish.
    for (const child of [...callers, ...callee]) await child.stop();
  }
}
