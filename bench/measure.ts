/**
 * One measured run of one scenario on one side: warm up, mark the callees, run the caller's
 * load, wait until every callee ran every handler, then read each process's CPU.
 */
import type { RunResult, RunSpec } from './caller.js';
import type { CalleeReport } from './callee-meter.js';
import type { Fleet, Impl } from './fleet.js';
import type { Plan, Scenario } from './scenarios.js';

export interface RunMetrics {
  calls: number;
  errors: number;
  firstError?: string;
  callsPerSec: number;
  p50Us?: number;
  p99Us?: number;
  /** CPU µs per call in the caller process. */
  cpuCallerUs: number;
  /** CPU µs per call summed over the callee processes the call reached. */
  cpuCalleeUs: number;
  cpuTotalUs: number;
  /** Queued rows: calls per second until the last instance ran the last request. */
  e2eCallsPerSec?: number;
  /** Each process's measured window on its monotonic clock, µs (caller first, then the callees). */
  windows: { fromUs: number; toUs: number }[];
}

/** How long the callees may take to run what was queued (Redis backlog included). */
const DRAIN_TIMEOUT_MS = 60_000;

export async function measure(
  fleet: Fleet,
  impl: Impl,
  scenario: Scenario,
  plan: Plan,
  warmupMs = plan.warmupMs,
): Promise<RunMetrics> {
  const caller = fleet.caller(impl);
  const callees = scenario.phase === 'single' ? fleet.callees(impl).slice(0, 1) : fleet.callees(impl);
  const base = { target: scenario.target, payload: scenario.payload, concurrency: scenario.concurrency };

  await Promise.all(callees.map((c) => c.request('mark')));
  const warm = await caller.request<RunResult>('run', { ...base, durationMs: warmupMs, latency: false } satisfies RunSpec);
  await drain(callees, warm);

  await Promise.all(callees.map((c) => c.request('mark')));
  const durationMs = scenario.short ? plan.redisMs : scenario.latency ? plan.latencyMs : plan.throughputMs;
  const spec: RunSpec = { ...base, durationMs, latency: scenario.latency };
  const run = await caller.request<RunResult>('run', spec, spec.durationMs + 30_000);
  await drain(callees, run);
  const reports = await Promise.all(callees.map((c) => c.request<CalleeReport>('report')));

  const cpuCallerUs = run.cpuUs / run.calls;
  const cpuCalleeUs = reports.reduce((sum, r) => sum + r.cpuUs, 0) / run.calls;
  const metrics: RunMetrics = {
    calls: run.calls,
    errors: run.errors,
    callsPerSec: run.callsPerSec,
    cpuCallerUs,
    cpuCalleeUs,
    cpuTotalUs: cpuCallerUs + cpuCalleeUs,
    windows: [run.window, ...reports.map((r) => r.window)],
  };
  if (run.firstError !== undefined) metrics.firstError = run.firstError;
  if (run.p50Us !== undefined) metrics.p50Us = run.p50Us;
  if (run.p99Us !== undefined) metrics.p99Us = run.p99Us;
  if (scenario.target.startsWith('queued')) {
    const last = Math.max(...reports.map((r) => r.lastHandledAt));
    metrics.e2eCallsPerSec = (run.calls / Math.max(last - run.startedAt, run.elapsedMs)) * 1000;
  }
  return metrics;
}

/** Every callee got every successful call of the run: wait until each ran them all. */
async function drain(
  callees: { request<T>(op: string, args?: unknown, timeoutMs?: number): Promise<T> }[],
  run: RunResult,
): Promise<void> {
  const n = run.calls - run.errors;
  await Promise.all(callees.map((c) => c.request('waitHandled', { n, timeoutMs: DRAIN_TIMEOUT_MS }, DRAIN_TIMEOUT_MS + 5_000)));
}
