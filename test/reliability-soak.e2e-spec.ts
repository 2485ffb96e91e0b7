/**
 * Reliability under load (issue: "nothing lost, nothing mixed up, nothing hangs"), part 1:
 * the soak. Real processes on 127.0.0.1: a manager, three NodeB instances (two plain, one
 * Nest) and two NodeA callers, each keeping 500 calls in flight (1,000 together) — balanced
 * `status` / `echo` and responding `collect` broadcasts — for at least 100,000 calls. Every
 * answer must carry its own call's id; every call settles exactly once; afterwards memory and
 * live timers are back where they were (no leaked pending calls, timers or listeners).
 *
 * Seed: MESH_SEED (default below) picks the command mix.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  describeSummary,
  loadStats,
  mergeSummaries,
  mib,
  MiB,
  runLoad,
  suiteSeed,
  waitForPeers,
  type LoadSpec,
} from './reliability-harness.js';
import type { LoadStats, ProcessSample } from './support/fixture-protocol.js';
import { startManager, startWorker, stopAll, type ManagerHandle, type WorkerHandle } from './support/mesh-process.js';

const SEED = suiteSeed(0x5eed_50a4);
const CALLERS = 2;
const CONCURRENCY_PER_CALLER = 500;
const CALLS_PER_CALLER = 150_000;
const WARMUP_PER_CALLER = 20_000;
const CALL_TIMEOUT_MS = 20_000;
/** Bounds of growth over the run, measured after a full GC. */
const RSS_BOUND = 64 * MiB;
const HEAP_BOUND = 8 * MiB;
const TIMER_BOUND = 2;

describe('reliability: soak (1,000 in flight, 100k+ calls, 3 NodeB)', () => {
  let manager: ManagerHandle;
  const nodeB: WorkerHandle[] = [];
  const callers: WorkerHandle[] = [];

  beforeAll(async () => {
    manager = await startManager('plain', { logLevel: 'warn' });
    const at = { host: '127.0.0.1', port: manager.port };
    nodeB.push(
      ...(await Promise.all(
        (['plain', 'plain', 'nest'] as const).map((front, i) =>
          startWorker(front, { worker: 'NodeB', variant: `soak-B${i}`, manager: at, allow: ['NodeA'], logLevel: 'warn' }),
        ),
      )),
    );
    callers.push(
      ...(await Promise.all(
        Array.from({ length: CALLERS }, (_, i) =>
          startWorker('plain', { worker: 'NodeA', variant: `soak-A${i}`, manager: at, connect: ['NodeB'], logLevel: 'warn' }),
        ),
      )),
    );
    const variants = nodeB.map((b) => b.variant);
    await Promise.all(callers.map((c) => waitForPeers(c, 'NodeB', variants, 30_000)));
  }, 90_000);

  afterAll(async () => {
    const killed = await stopAll();
    expect(killed).toEqual([]);
  }, 60_000);

  it('answers every call with its own answer, loses and duplicates none, and leaks nothing', async () => {
    const spec = (tag: string, total: number, i: number): LoadSpec => ({
      tag,
      worker: 'NodeB',
      mix: { status: 7, echo: 2, collect: 1 },
      total,
      concurrency: CONCURRENCY_PER_CALLER,
      payloadSize: 64,
      options: { timeout: CALL_TIMEOUT_MS },
      seed: SEED + i,
    });

    // Warm-up: JIT, socket buffers and pools reach their working size before the baseline.
    const warm = await Promise.all(callers.map((c, i) => runLoad(c, spec('warmup', WARMUP_PER_CALLER, i), 60_000)));
    expect(warm.map((w) => w.ok)).toEqual(callers.map(() => WARMUP_PER_CALLER));

    // Baseline after a full GC in every process; again after the run, once the runner dropped its own records.
    const processes = [...callers, ...nodeB];
    const before = await Promise.all(processes.map((p) => loadStats(p, undefined, true)));
    const started = Date.now();
    const runs = await Promise.all(callers.map((c, i) => runLoad(c, spec('soak', CALLS_PER_CALLER, i), 55_000)));
    const elapsed = Date.now() - started;
    const after = await Promise.all(processes.map((p) => loadStats(p, undefined, true)));
    const all = mergeSummaries(runs);

    const memoryLines = processes.map((p, i) =>
      memoryLine(`${p.worker} ${p.variant}`, (before[i] as LoadStats).process, (after[i] as LoadStats).process),
    );
    console.log(
      [
        `SOAK seed=${SEED}: ${CALLERS} callers x ${CONCURRENCY_PER_CALLER} in flight, 3 NodeB, ${elapsed} ms`,
        describeSummary('outcomes', all),
        'memory after a full GC (before -> after):',
        ...memoryLines.map((l) => `  ${l}`),
      ].join('\n'),
    );

    // Nothing lost, nothing duplicated, nothing mixed up.
    expect(all.calls).toBe(CALLERS * CALLS_PER_CALLER);
    expect(all.calls).toBeGreaterThanOrEqual(100_000);
    expect(all.settled).toBe(all.calls);
    expect(all.byCode).toEqual({});
    expect(all.mismatchSamples).toEqual([]);
    expect(all.mismatches).toBe(0);
    expect(all.duplicates).toBe(0);
    expect(all.ok).toBe(all.calls);
    expect(all.byCommand.collect!.calls).toBeGreaterThan(1000);
    // 1,000 calls really were in flight together.
    expect(runs.map((r) => r.peakInFlight)).toEqual(callers.map(() => CONCURRENCY_PER_CALLER));
    // Every instance took its share of the balanced calls (round-robin: about a third each).
    const balanced = nodeB.map((b) => all.byVariant[b.variant]?.ok ?? 0);
    for (const n of balanced) expect(n).toBeGreaterThan(all.byCommand.status!.calls / 6);
    // Nothing hung: the slowest call is far inside its timeout.
    expect(all.maxLatencyMs).toBeLessThan(CALL_TIMEOUT_MS);

    // No leak: memory and live timers back near the baseline after the run.
    processes.forEach((_, i) => {
      const b = before[i]!.process;
      const a = after[i]!.process;
      expect(a.rss - b.rss).toBeLessThan(RSS_BOUND);
      expect(a.heapUsed - b.heapUsed).toBeLessThan(HEAP_BOUND);
      expect((a.handles.Timeout ?? 0) - (b.handles.Timeout ?? 0)).toBeLessThanOrEqual(TIMER_BOUND);
      expect(count(a.handles) - count(b.handles)).toBeLessThanOrEqual(TIMER_BOUND);
    });
  }, 150_000);
});

function memoryLine(who: string, before: ProcessSample, after: ProcessSample): string {
  return (
    `${who}: rss ${mib(before.rss)} -> ${mib(after.rss)} (${sign(after.rss - before.rss)}), ` +
    `heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} (${sign(after.heapUsed - before.heapUsed)}), ` +
    `timers ${before.handles.Timeout ?? 0} -> ${after.handles.Timeout ?? 0}, handles ${count(before.handles)} -> ${count(after.handles)}`
  );
}

function sign(bytes: number): string {
  return `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
}

function count(handles: Record<string, number>): number {
  return Object.values(handles).reduce((a, b) => a + b, 0);
}
