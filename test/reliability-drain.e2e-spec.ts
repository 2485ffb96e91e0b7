/**
 * Reliability under faults, part 4: graceful drain, retries and a rolling restart. Real
 * processes on 127.0.0.1.
 *
 * - close() (the fixture's 'close': node.close()) and SIGTERM (Nest shutdown hooks:
 *   app.close()): the instance tells the manager and its callers it is leaving — callers stop
 *   choosing it at once, the registry drops it — finishes the requests it is running, then exits 0.
 * - Past `drainTimeout`, requests still running fail with MESH_PEER_DISCONNECTED (not a timeout).
 * - `retries` (per call, and per command as declared by `@Balanced({ retries })` /
 *   `{ method, retries }`) carries calls over to another instance — also to the replacement of a
 *   hung instance (SIGSTOP; a new process with the same instanceId registers).
 * - A rolling restart of all three NodeB instances, one by one, under load from two callers using
 *   retries, loses zero calls.
 *
 * Seed: MESH_SEED (default below) orders the rolling restart and the load mix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  describeSummary,
  loadStats,
  mergeSummaries,
  mulberry32,
  registry,
  runLoad,
  stopLoad,
  suiteSeed,
  waitForPeers,
  type LoadSpec,
} from './reliability-harness.js';
import type { LoadSummary, LocalMeshEvent } from './support/fixture-protocol.js';
import {
  runningProcesses,
  startManager,
  startWorker,
  stopAll,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
  type WorkerStartConfig,
} from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

const SEED = suiteSeed(0xd7a1_2024);
/** Callers must see an instance leave this soon after it was told to close. */
const LEAVE_SEEN_MS = 500;

describe('reliability: graceful drain and rolling restart', () => {
  let manager: ManagerHandle;
  let caller: WorkerHandle;
  const at = () => ({ host: '127.0.0.1', port: manager.port });
  const nodeB = (front: Front, variant: string, extra: Partial<WorkerStartConfig> = {}) =>
    startWorker(front, { worker: 'NodeB', variant, manager: at(), allow: ['NodeA'], logLevel: 'warn', ...extra });

  beforeAll(async () => {
    // Plain manager without a fixed port: it serves GET /socket-mesh/nodes on its discovery port.
    manager = await startManager('plain', { logLevel: 'warn' });
    caller = await startWorker('plain', {
      worker: 'NodeA',
      variant: 'drain-A',
      manager: at(),
      connect: ['NodeB'],
      logLevel: 'warn',
    });
  }, 60_000);

  afterEach(async () => {
    // Each test starts its own NodeB instances; end them (gracefully) so the next test starts clean.
    await Promise.all(
      runningProcesses()
        .filter((p) => p.role === 'worker' && p.label.includes('NodeB'))
        .map((p) => p.stop().catch(() => p.kill())),
    );
  }, 60_000);

  afterAll(async () => {
    const killed = await stopAll();
    expect(killed).toEqual([]);
  }, 60_000);

  /** Drains `victim` (by `how`) while 30 slow calls run on it and background load runs on every instance. */
  async function drainUnderLoad(front: Front, how: 'close' | 'SIGTERM') {
    const victim = await nodeB(front, `drain-${front}-victim`, { drainTimeout: 8000 });
    const other = await nodeB('plain', `drain-${front}-other`);
    await waitForPeers(caller, 'NodeB', [victim.variant, other.variant]);
    const background = runLoad(
      caller,
      {
        tag: 'bg',
        worker: 'NodeB',
        mix: { status: 3, echo: 1 },
        concurrency: 20,
        options: { timeout: 5000 },
        seed: SEED,
        durationMs: 30_000,
      },
      40_000,
    );
    const slowMs = 1500;
    const inflight = runLoad(
      caller,
      {
        tag: 'inflight',
        worker: 'NodeB',
        command: 'slow',
        slowMs,
        total: 30,
        concurrency: 30,
        options: { only: victim.variant, timeout: 10_000 },
      },
      30_000,
    );
    await waitFor(async () => (await loadStats(caller, 'inflight')).run?.peakInFlight === 30, 10_000, '30 slow calls in flight');
    await waitFor(
      async () => ((await loadStats(caller, 'bg')).run?.byVariant[victim.variant]?.ok ?? 0) > 100,
      10_000,
      'background load on the victim',
    );

    const toldAt = Date.now();
    const exited = how === 'close' ? victim.stop() : victim.kill('SIGTERM');
    // The manager drops it from the registry while it is still finishing its work.
    await waitFor(
      async () => !(await registry(manager)).some((e) => e.variant === victim.variant),
      5000,
      'the registry to drop the victim',
      10,
    );
    const droppedAt = Date.now();
    const stillAliveWhenDropped = victim.process.alive;
    const slow = await inflight;
    const exit = await exited;
    const exitedAt = Date.now();
    await stopLoad(caller, 'bg');
    const bg = await background;
    const events = (await loadStats(caller)).events;
    const leftAt = events.find(
      (e: LocalMeshEvent) => e.name === 'peer.disconnected' && e.variant === victim.variant && e.at >= toldAt,
    )?.at;
    return { victim, other, slow, bg, exit, toldAt, droppedAt, exitedAt, leftAt, stillAliveWhenDropped, slowMs };
  }

  function checkDrain(r: Awaited<ReturnType<typeof drainUnderLoad>>, title: string) {
    console.log(
      [
        describeSummary(`${title}: 30 slow calls in flight on the draining instance`, r.slow),
        describeSummary(`${title}: background load on both instances`, r.bg),
        `  caller saw it leave ${r.leftAt === undefined ? 'never' : r.leftAt - r.toldAt} ms after it was told; ` +
          `registry dropped it within ${r.droppedAt - r.toldAt} ms; it exited (code ${r.exit.code}, signal ${r.exit.signal}) after ${r.exitedAt - r.toldAt} ms`,
      ].join('\n'),
    );
    // Callers stop choosing it at once: told at toldAt, seen leaving right after, long before it exits.
    expect(r.leftAt).toBeDefined();
    expect(r.leftAt! - r.toldAt).toBeLessThan(LEAVE_SEEN_MS);
    expect(r.stillAliveWhenDropped).toBe(true);
    // It finished everything it was running.
    expect(r.slow.ok).toBe(30);
    expect(r.slow.byCode).toEqual({});
    expect(r.slow.byVariant[r.victim.variant]!.ok).toBe(30);
    // Then closed cleanly.
    expect(r.exit).toEqual({ code: 0, signal: null });
    expect(r.exitedAt - r.toldAt).toBeGreaterThanOrEqual(0);
    // Background calls: nothing after the leave went to it. Without retries a call that reached
    // it between "draining" and the caller reading LEAVING is refused with MESH_PEER_DISCONNECTED.
    expect(r.bg.mismatches).toBe(0);
    expect(Object.keys(r.bg.byCode).filter((c) => c !== 'MESH_PEER_DISCONNECTED')).toEqual([]);
    expect(r.bg.failures.filter((f) => f.startedAt > r.leftAt!)).toEqual([]);
    expect(r.bg.byVariant[r.victim.variant]!.lastAt).toBeLessThanOrEqual(r.leftAt! + 20);
    expect(r.bg.byVariant[r.other.variant]!.lastAt).toBeGreaterThan(r.leftAt!);
  }

  it('close(): leaves the rotation and the registry at once, finishes in-flight requests, exits 0', async () => {
    checkDrain(await drainUnderLoad('plain', 'close'), 'DRAIN close() (plain)');
  }, 60_000);

  it('SIGTERM (Nest shutdown hooks, app.close()): the same', async () => {
    checkDrain(await drainUnderLoad('nest', 'SIGTERM'), 'DRAIN SIGTERM (Nest)');
  }, 60_000);

  it('past drainTimeout, requests still running fail with MESH_PEER_DISCONNECTED, not a timeout', async () => {
    const drainTimeout = 500;
    const victim = await nodeB('plain', 'drain-short', { drainTimeout });
    await waitForPeers(caller, 'NodeB', [victim.variant]);
    const running = runLoad(
      caller,
      { tag: 'cut', worker: 'NodeB', command: 'slow', slowMs: 2500, total: 20, concurrency: 20, options: { timeout: 10_000 } },
      30_000,
    );
    await waitFor(async () => (await loadStats(caller, 'cut')).run?.peakInFlight === 20, 10_000, '20 slow calls in flight');
    const toldAt = Date.now();
    const exited = victim.stop();
    const run = await running;
    const exit = await exited;
    const latestFail = Math.max(...run.failures.map((f) => f.endedAt - toldAt));
    console.log(
      describeSummary(`DRAIN drainTimeout=${drainTimeout}: 20 calls of 2500 ms running at close()`, run) +
        `\n  failed ${latestFail} ms after close()`,
    );
    expect(run.ok).toBe(0);
    expect(run.byCode).toEqual({ MESH_PEER_DISCONNECTED: 20 });
    expect(latestFail).toBeGreaterThanOrEqual(drainTimeout - 50);
    expect(latestFail).toBeLessThan(2000); // cut at the drain timeout, not at the handler's end or the call timeout
    expect(exit.code).toBe(0);
  }, 60_000);

  it('retries (per call, and per command as declared) carry calls in flight on a killed instance over to another', async () => {
    const [b0, b1] = await Promise.all([nodeB('plain', 'retry-B0', { retries: 2 }), nodeB('nest', 'retry-B1', { retries: 2 })]);
    await waitForPeers(caller, 'NodeB', [b0.variant, b1.variant]);
    // slow is declared with retries 2 by both fixtures; echo declares none and gets retries per call.
    const declared = runLoad(
      caller,
      {
        tag: 'declared',
        worker: 'NodeB',
        command: 'slow',
        slowMs: 1000,
        total: 40,
        concurrency: 40,
        options: { timeout: 10_000 },
      },
      30_000,
    );
    const perCall = runLoad(
      caller,
      { tag: 'percall', worker: 'NodeB', command: 'echo', durationMs: 20_000, concurrency: 50, options: { retries: 2 } },
      30_000,
    );
    const without = runLoad(
      caller,
      {
        tag: 'without',
        worker: 'NodeB',
        command: 'slow',
        slowMs: 1000,
        total: 40,
        concurrency: 40,
        options: { timeout: 10_000, retries: 0 },
      },
      30_000,
    );
    await waitFor(
      async () => {
        const [d, w] = await Promise.all([loadStats(caller, 'declared'), loadStats(caller, 'without')]);
        return d.run?.peakInFlight === 40 && w.run?.peakInFlight === 40;
      },
      10_000,
      'slow calls in flight',
    );
    await b0.kill('SIGKILL');
    const [d, w] = await Promise.all([declared, without]);
    await stopLoad(caller, 'percall');
    const p = await perCall;
    console.log(
      [
        describeSummary('RETRIES declared (slow, retries 2), instance SIGKILLed mid-call', d),
        describeSummary('RETRIES per call (echo, { retries: 2 })', p),
        describeSummary('RETRIES off (slow, { retries: 0 }): the control', w),
      ].join('\n'),
    );
    for (const run of [d, p]) {
      expect(run.byCode).toEqual({});
      expect(run.ok).toBe(run.calls);
      expect(run.mismatches).toBe(0);
    }
    // The slow calls that were on the killed instance were carried over to the other one.
    expect(d.byVariant[b1.variant]!.ok).toBe(40);
    // Without retries the same fault reaches the callers.
    expect(w.byCode.MESH_PEER_DISCONNECTED).toBeGreaterThan(0);
    expect(Object.keys(w.byCode)).toEqual(['MESH_PEER_DISCONNECTED']);
  }, 60_000);

  it('retries move calls from a hung instance to its replacement (same instanceId, new port) as soon as it registers', async () => {
    const hung = await nodeB('plain', 'hung-B', { retries: 2 });
    await waitForPeers(caller, 'NodeB', [hung.variant]);
    const withRetries = runLoad(
      caller,
      {
        tag: 'hung-retry',
        worker: 'NodeB',
        command: 'slow',
        slowMs: 200,
        total: 20,
        concurrency: 20,
        options: { timeout: 20_000 },
      },
      30_000,
    );
    const without = runLoad(
      caller,
      {
        tag: 'hung-plain',
        worker: 'NodeB',
        command: 'slow',
        slowMs: 200,
        total: 20,
        concurrency: 20,
        options: { timeout: 20_000, retries: 0 },
      },
      30_000,
    );
    await waitFor(
      async () => {
        const [r, p] = await Promise.all([loadStats(caller, 'hung-retry'), loadStats(caller, 'hung-plain')]);
        return r.run?.peakInFlight === 20 && p.run?.peakInFlight === 20;
      },
      10_000,
      'calls in flight',
    );
    // Freeze it: its sockets stay open, nobody notices by themselves; then a replacement with
    // the same instanceId registers (a new pod for a hung one) and the manager tells callers.
    hung.process.child.kill('SIGSTOP');
    const replacedAt = Date.now();
    try {
      const replacement = await nodeB('plain', 'hung-B', { retries: 2 });
      const [r, p] = await Promise.all([withRetries, without]);
      console.log(
        [
          describeSummary('RETRIES across a replacement of a hung instance (declared retries 2)', r),
          describeSummary('the same without retries', p),
        ].join('\n'),
      );
      // With retries: every call lands on the replacement.
      expect(r.byCode).toEqual({});
      expect(r.ok).toBe(20);
      // Without: they fail at once with MESH_PEER_DISCONNECTED when the replacement registers, not at their timeout.
      expect(p.byCode).toEqual({ MESH_PEER_DISCONNECTED: 20 });
      expect(Math.max(...p.failures.map((f) => f.endedAt - replacedAt))).toBeLessThan(10_000);
      expect(replacement.process.alive).toBe(true);
    } finally {
      await hung.kill('SIGKILL');
    }
  }, 60_000);

  it('a rolling restart of all NodeB instances, one by one, under load with retries loses zero calls', async () => {
    const random = mulberry32(SEED);
    const fronts: Front[] = ['plain', 'plain', 'nest'];
    const variants = fronts.map((_, i) => `roll-B${i}`);
    const handles = await Promise.all(fronts.map((front, i) => nodeB(front, variants[i]!, { retries: 3 })));
    const second = await startWorker('plain', {
      worker: 'NodeA',
      variant: 'drain-A2',
      manager: at(),
      connect: ['NodeB'],
      logLevel: 'warn',
    });
    await Promise.all([caller, second].map((c) => waitForPeers(c, 'NodeB', variants)));
    const specs: LoadSpec[] = [
      // Per-call retries on a command that declares none.
      {
        tag: 'roll',
        worker: 'NodeB',
        mix: { echo: 4, status: 1 },
        payloadSize: 128,
        concurrency: 100,
        options: { retries: 3 },
        seed: SEED,
        durationMs: 60_000,
      },
      // Declared retries (status, slow) without any call option; slow calls are in flight at every drain.
      {
        tag: 'roll',
        worker: 'NodeB',
        mix: { status: 9, slow: 1 },
        slowMs: 300,
        concurrency: 100,
        seed: SEED + 1,
        durationMs: 60_000,
      },
    ];
    const callers = [caller, second];
    const loads = Promise.allSettled(callers.map((c, i) => runLoad(c, specs[i]!, 90_000)));
    let summaries: LoadSummary[] = [];
    const order = [0, 1, 2];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const steps: string[] = [];
    try {
      await Promise.all(
        callers.map((c) => waitFor(async () => ((await loadStats(c, 'roll')).run?.ok ?? 0) > 1000, 10_000, 'load running')),
      );
      for (const i of order) {
        const started = Date.now();
        // SIGTERM for the Nest one (shutdown hooks), close() for the plain ones.
        const exit = await (fronts[i] === 'nest' ? handles[i]!.kill('SIGTERM') : handles[i]!.stop());
        expect(exit.code).toBe(0);
        const stoppedAt = Date.now();
        const marks = callers.map((c) => c.mark());
        handles[i] = await nodeB(fronts[i]!, variants[i]!, { retries: 3 });
        await Promise.all(
          callers.map((c, ci) =>
            c.waitForEvent('peer.connected', (p) => p.variant === variants[i] && p.direction === 'outgoing', 20_000, marks[ci]),
          ),
        );
        const backAt = Date.now();
        // It takes traffic again before the next one goes.
        await Promise.all(
          callers.map((c) =>
            waitFor(
              async () => ((await loadStats(c, 'roll')).run?.byVariant[variants[i]!]?.lastAt ?? 0) > backAt,
              5000,
              `${variants[i]} answering again`,
            ),
          ),
        );
        steps.push(
          `${variants[i]} (${fronts[i]}): drained and exited in ${stoppedAt - started} ms, replaced and in rotation after ${backAt - stoppedAt} ms`,
        );
      }
    } finally {
      await Promise.all(callers.map((c) => stopLoad(c, 'roll').catch(() => undefined)));
      summaries = (await loads).map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      await second.stop();
    }
    const all = mergeSummaries(summaries);
    console.log(
      [
        `ROLLING RESTART seed=${SEED}, order ${order.map((i) => variants[i]).join(', ')}`,
        ...steps.map((s) => `  ${s}`),
        describeSummary('outcomes', all),
      ].join('\n'),
    );
    expect(all.byCode).toEqual({});
    expect(all.mismatchSamples).toEqual([]);
    expect(all.duplicates).toBe(0);
    expect(all.settled).toBe(all.calls);
    expect(all.ok).toBe(all.calls);
    expect(all.byCommand.slow!.ok).toBeGreaterThan(0);
    for (const v of variants) expect(all.byVariant[v]!.resumes.length).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
