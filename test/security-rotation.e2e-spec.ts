/**
 * Key rotation without a partition, against real processes: a manager and three workers (a
 * caller NodeA, two NodeB instances, both fronts) roll from OLD to NEW in two passes while
 * NodeA calls NodeB without pause:
 *   pass 1: each node restarts holding [NEW, OLD]  (it still talks to nodes holding only OLD)
 *   pass 2: each node restarts holding [NEW]       (every other node already holds NEW)
 * Every call made during the roll must succeed. The load runs inside NodeA, so it is stopped
 * while NodeA itself restarts and started again after; every other restart happens under load.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  answeringFrom,
  describeSummary,
  mergeSummaries,
  startRollingLoad,
  stopLoad,
  waitForPeers,
} from './reliability-harness.js';
import { freePort } from './support/free-port.js';
import type { LoadSummary } from './support/fixture-protocol.js';
import {
  startManager,
  startWorker,
  stopAll,
  TEST_KEYS,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
} from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

const OLD = 'rotation-old-private-key-0123456789abcdef';
const NEW = 'rotation-new-private-key-fedcba9876543210';

describe('key rotation: a rolling roll of the manager and three workers under load', () => {
  afterAll(async () => {
    expect(await stopAll()).toEqual([]);
  }, 60_000);

  it('rolls OLD → [NEW, OLD] → NEW node by node with 0 failed calls, then refuses OLD-only nodes', async () => {
    const port = await freePort();
    const manager = { host: '127.0.0.1', port };
    const fronts: Record<'A' | 'B1' | 'B2', Front> = { A: 'plain', B1: 'plain', B2: 'nest' };
    const startM = (privateKey: string | string[]) => startManager('plain', { port, privateKey, logLevel: 'warn' });
    const startNode = (which: 'A' | 'B1' | 'B2', privateKey: string | string[]) =>
      which === 'A'
        ? startWorker(fronts.A, { worker: 'NodeA', variant: 'rot-A', manager, connect: ['NodeB'], privateKey, logLevel: 'warn' })
        : startWorker(fronts[which], {
            worker: 'NodeB',
            variant: `rot-${which}`,
            manager,
            allow: ['NodeA'],
            privateKey,
            logLevel: 'warn',
          });

    let m: ManagerHandle = await startM(OLD);
    const nodes: Record<'A' | 'B1' | 'B2', WorkerHandle> = {
      A: await startNode('A', OLD),
      B1: await startNode('B1', OLD),
      B2: await startNode('B2', OLD),
    };
    await waitForPeers(nodes.A, 'NodeB', ['rot-B1', 'rot-B2']);

    const summaries: LoadSummary[] = [];
    let segment = 0;
    let load: Promise<LoadSummary> | undefined;
    const startLoad = async () => {
      const tag = `rot-${++segment}`;
      load = (await startRollingLoad(nodes.A, tag, 20)).summary;
      return tag;
    };
    const finishLoad = async (tag: string) => {
      await stopLoad(nodes.A, tag);
      summaries.push(await load!);
    };
    /** Calls must still flow (through both NodeB instances) after each step. */
    const flowing = (tag: string, variant: string) => answeringFrom(nodes.A, tag, variant);

    const steps: string[] = [];
    const roll = async (keys: string | string[], label: string) => {
      let tag = await startLoad();
      // The manager: workers keep their peer links and re-register with the new process.
      const mStarted = Date.now();
      const marks = (['A', 'B1', 'B2'] as const).map((w) => [w, nodes[w].mark()] as const);
      await m.stop();
      m = await startM(keys);
      // Each worker registers again with the new manager (which holds other keys than the last).
      await Promise.all(marks.map(([w, mark]) => nodes[w].waitForEvent('connected', () => true, 30_000, mark)));
      steps.push(`${label}: manager restarted in ${Date.now() - mStarted} ms`);
      for (const which of ['B1', 'B2'] as const) {
        const t0 = Date.now();
        const exit = await (fronts[which] === 'nest' ? nodes[which].kill('SIGTERM') : nodes[which].stop());
        expect(exit.code).toBe(0);
        nodes[which] = await startNode(which, keys);
        await flowing(tag, `rot-${which}`);
        steps.push(`${label}: ${which} (${fronts[which]}) restarted and answering after ${Date.now() - t0} ms`);
      }
      // The caller: its load pauses while it restarts.
      await finishLoad(tag);
      const t0 = Date.now();
      await nodes.A.stop();
      nodes.A = await startNode('A', keys);
      await waitForPeers(nodes.A, 'NodeB', ['rot-B1', 'rot-B2']);
      tag = await startLoad();
      await flowing(tag, 'rot-B1');
      await flowing(tag, 'rot-B2');
      await finishLoad(tag);
      steps.push(`${label}: A (${fronts.A}) restarted and calling both after ${Date.now() - t0} ms`);
    };

    await roll([NEW, OLD], 'pass 1 [NEW, OLD]');
    await roll(NEW, 'pass 2 [NEW]');

    const all = mergeSummaries(summaries);
    console.log(['KEY ROTATION', ...steps.map((s) => `  ${s}`), describeSummary('calls during the roll', all)].join('\n'));
    expect(all.calls).toBeGreaterThan(500);
    expect(all.byCode).toEqual({});
    expect(all.settled).toBe(all.calls);
    expect(all.ok).toBe(all.calls);

    // The mesh is on NEW alone now: a node still holding only OLD is refused by the manager.
    const stale = await startWorker('plain', {
      worker: 'NodeB',
      variant: 'rot-stale',
      manager,
      allow: ['NodeA'],
      privateKey: OLD,
      logLevel: 'warn',
    });
    await waitFor(() => /no key in common/.test(stale.output()), 15_000, 'the OLD-only node to be refused');
    expect(stale.history.filter((e) => e.name === 'connected')).toEqual([]);
    expect(m.output()).not.toContain(OLD);
    expect(m.output()).not.toContain(NEW);
    expect(TEST_KEYS.privateKey).not.toBe(OLD);
    await stale.kill();
  }, 300_000);
});
