/**
 * Reliability under load, part 3: backpressure. Real processes on 127.0.0.1.
 *
 * - Per-connection in-flight limit (`maxInFlight`, on the instance that runs the handlers):
 *   requests beyond it from one caller are refused at once with MESH_OVERLOADED; the limit is
 *   per caller link, so another caller still gets its own share; the instance stays up.
 * - Per-worker pending limit (`maxPending`, on the caller, per peer instance): calls beyond it
 *   fail at once with MESH_OVERLOADED instead of queueing without bound (its live timers stay
 *   at the limit).
 * - A slow handler does not delay answers to other commands on the same connection.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeSummary, loadStats, runLoad, waitForPeers } from './reliability-harness.js';
import { startManager, startWorker, stopAll, type ManagerHandle, type WorkerHandle } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

const SLOW_MS = 1500;
/** "At once": far below the slow handler's duration and the call timeout. */
const AT_ONCE_MS = 500;
const MAX_IN_FLIGHT = 20;
const MAX_PENDING = 50;

describe('reliability: backpressure (maxInFlight, maxPending, slow handlers)', () => {
  let manager: ManagerHandle;
  let limited: WorkerHandle; // NodeB, Nest, maxInFlight 20
  let free: WorkerHandle; // NodeB, plain, defaults
  let caller: WorkerHandle; // NodeA, defaults
  let smallCaller: WorkerHandle; // NodeA, maxPending 50

  beforeAll(async () => {
    manager = await startManager('plain', { logLevel: 'warn' });
    const at = { host: '127.0.0.1', port: manager.port };
    [limited, free, caller, smallCaller] = await Promise.all([
      startWorker('nest', {
        worker: 'NodeB',
        variant: 'bp-limited',
        manager: at,
        allow: ['NodeA'],
        maxInFlight: MAX_IN_FLIGHT,
        logLevel: 'warn',
      }),
      startWorker('plain', { worker: 'NodeB', variant: 'bp-free', manager: at, allow: ['NodeA'], logLevel: 'warn' }),
      startWorker('plain', { worker: 'NodeA', variant: 'bp-caller', manager: at, connect: ['NodeB'], logLevel: 'warn' }),
      startWorker('plain', {
        worker: 'NodeA',
        variant: 'bp-small',
        manager: at,
        connect: ['NodeB'],
        maxPending: MAX_PENDING,
        logLevel: 'warn',
      }),
    ]);
    await Promise.all([caller, smallCaller].map((c) => waitForPeers(c, 'NodeB', ['bp-limited', 'bp-free'], 30_000)));
  }, 90_000);

  afterAll(async () => {
    const killed = await stopAll();
    expect(killed).toEqual([]);
  }, 60_000);

  it('refuses requests beyond maxInFlight per caller link at once with MESH_OVERLOADED', async () => {
    const spec = (tag: string) => ({
      tag,
      worker: 'NodeB',
      command: 'slow',
      slowMs: SLOW_MS,
      total: 100,
      concurrency: 100,
      options: { only: 'bp-limited', timeout: 10_000 },
    });
    // Two callers at once: the limit is per caller link, so each gets its own 20.
    const [a, b] = await Promise.all([
      runLoad(caller, spec('inflight-a'), 30_000),
      runLoad(smallCaller, spec('inflight-b'), 30_000),
    ]);
    console.log(describeSummary(`BACKPRESSURE maxInFlight=${MAX_IN_FLIGHT} (Nest instance), caller A`, a));
    console.log(describeSummary(`BACKPRESSURE maxInFlight=${MAX_IN_FLIGHT} (Nest instance), caller B`, b));
    for (const run of [a, b]) {
      expect(run.settled).toBe(100);
      expect(run.ok).toBe(MAX_IN_FLIGHT);
      expect(run.byCode).toEqual({ MESH_OVERLOADED: 100 - MAX_IN_FLIGHT });
      expect(run.maxLatencyByOutcome.MESH_OVERLOADED).toBeLessThan(AT_ONCE_MS);
      expect(run.maxLatencyByOutcome.ok).toBeGreaterThanOrEqual(SLOW_MS - 50);
      expect(run.mismatches).toBe(0);
    }
    // The instance is fine and takes work again once the slow ones are done.
    const again = await runLoad(
      caller,
      { tag: 'inflight-after', worker: 'NodeB', command: 'status', total: 200, concurrency: 20, options: { only: 'bp-limited' } },
      30_000,
    );
    expect(again.ok).toBe(200);
    expect(limited.process.alive).toBe(true);
  }, 60_000);

  it('fails calls beyond maxPending at once with MESH_OVERLOADED and keeps only the limit pending', async () => {
    const offered = 2000;
    const before = (await loadStats(smallCaller, undefined, true)).process;
    const running = runLoad(
      smallCaller,
      {
        tag: 'pending',
        worker: 'NodeB',
        command: 'slow',
        slowMs: SLOW_MS,
        total: offered,
        concurrency: offered,
        options: { only: 'bp-free', timeout: 10_000 },
      },
      30_000,
    );
    // Every call over the limit is refused while the 50 admitted ones are still running.
    const during = await waitFor(
      async () => {
        const stats = await loadStats(smallCaller, 'pending');
        return stats.run && stats.run.settled >= offered - MAX_PENDING ? stats : undefined;
      },
      10_000,
      'the calls over the limit to be refused',
      10,
    );
    const run = await running;
    console.log(
      describeSummary(`BACKPRESSURE maxPending=${MAX_PENDING} (caller), ${offered} offered at once`, run) +
        `\n  while the admitted calls ran: ${during.run!.settled} settled, live timers ${before.handles.Timeout ?? 0} -> ${during.process.handles.Timeout ?? 0}`,
    );
    expect(during.run!.ok).toBe(0); // the refused ones settled before any admitted one finished
    expect(during.run!.settled).toBe(offered - MAX_PENDING);
    // One timer per admitted call, none for refused ones: pending state is bounded by the limit.
    expect((during.process.handles.Timeout ?? 0) - (before.handles.Timeout ?? 0)).toBeLessThanOrEqual(MAX_PENDING + 2);
    expect(run.ok).toBe(MAX_PENDING);
    expect(run.byCode).toEqual({ MESH_OVERLOADED: offered - MAX_PENDING });
    expect(run.maxLatencyByOutcome.MESH_OVERLOADED).toBeLessThan(AT_ONCE_MS);
    // Nothing left behind once the admitted calls answered.
    const after = (await loadStats(smallCaller, undefined, true)).process;
    expect((after.handles.Timeout ?? 0) - (before.handles.Timeout ?? 0)).toBeLessThanOrEqual(1);
    expect(free.process.alive).toBe(true);
  }, 60_000);

  it('balanced calls skip an instance at its maxPending limit while another one has room', async () => {
    // Fill the caller's link to bp-free to its limit with slow calls…
    const filling = runLoad(
      smallCaller,
      {
        tag: 'fill',
        worker: 'NodeB',
        command: 'slow',
        slowMs: SLOW_MS,
        total: MAX_PENDING,
        concurrency: MAX_PENDING,
        options: { only: 'bp-free', timeout: 10_000 },
      },
      30_000,
    );
    await waitFor(
      async () => (await loadStats(smallCaller, 'fill')).run?.peakInFlight === MAX_PENDING,
      10_000,
      'the link filled',
    );
    // …then balanced calls over both instances: all go to the one with room instead of failing.
    const balanced = await runLoad(
      smallCaller,
      { tag: 'around', worker: 'NodeB', command: 'status', total: 2000, concurrency: 20 },
      30_000,
    );
    const fill = await filling;
    console.log(describeSummary(`BACKPRESSURE balanced calls while bp-free is at maxPending=${MAX_PENDING}`, balanced));
    expect(fill.ok).toBe(MAX_PENDING);
    expect(balanced.byCode).toEqual({});
    expect(balanced.ok).toBe(2000);
    expect(balanced.byVariant['bp-limited']!.ok).toBeGreaterThan(1000);
  }, 60_000);

  it('answers other commands on the same connection while a slow handler runs', async () => {
    const slowMs = 3000;
    const slow = runLoad(
      caller,
      {
        tag: 'slow',
        worker: 'NodeB',
        command: 'slow',
        slowMs,
        total: 500,
        concurrency: 500,
        options: { only: 'bp-free', timeout: 15_000 },
      },
      30_000,
    );
    await waitFor(async () => (await loadStats(caller, 'slow')).run?.peakInFlight === 500, 10_000, '500 slow calls in flight');
    const fast = await runLoad(
      caller,
      {
        tag: 'fast',
        worker: 'NodeB',
        mix: { status: 1, echo: 1 },
        payloadSize: 256,
        total: 4000,
        concurrency: 10,
        options: { only: 'bp-free' },
      },
      30_000,
    );
    const slowRun = await slow;
    console.log(describeSummary(`BACKPRESSURE fast calls while 500 slow (${slowMs} ms) calls run on the same link`, fast));
    expect(fast.ok).toBe(4000);
    expect(fast.mismatches).toBe(0);
    expect(fast.byCode).toEqual({});
    // Every fast call answered well before the slow ones could: not queued behind them.
    expect(fast.maxLatencyMs).toBeLessThan(slowMs / 3);
    expect(fast.endedAt).toBeLessThan(slowRun.endedAt);
    expect(slowRun.ok).toBe(500);
    expect(slowRun.maxLatencyMs).toBeGreaterThanOrEqual(slowMs - 50);
  }, 60_000);
});
