/**
 * Shared by the reliability e2e suites (soak, chaos, backpressure, drain): driving the 'load'
 * request of the worker fixtures, reading the manager's registry, waiting on mesh events, and
 * printing outcome counts. Not a test file itself.
 */
import { emptySummary, type LoadRequest, type LoadStats, type LoadSummary } from './support/fixture-protocol.js';
import type { ManagerHandle, WorkerHandle } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

export { mulberry32 } from './fixtures/load-runner.js';

export type LoadSpec = Omit<LoadRequest, 'type' | 'id' | 'action'>;

/** The seed of a suite: MESH_SEED from the environment, else the suite's default. Printed so a run can be replayed. */
export function suiteSeed(fallback: number): number {
  const fromEnv = Number(process.env.MESH_SEED);
  return Number.isSafeInteger(fromEnv) && process.env.MESH_SEED !== '' && process.env.MESH_SEED !== undefined
    ? fromEnv
    : fallback;
}

/** Starts a load run in `caller` and resolves with its summary once every call settled. */
export async function runLoad(caller: WorkerHandle, spec: LoadSpec, timeoutMs: number): Promise<LoadSummary> {
  const message = await caller.process.request({ type: 'load', action: 'run', ...spec }, timeoutMs);
  if (!message.ok) throw new Error(`${caller.process.label}: load run failed: ${message.error.message}`);
  return message.value as LoadSummary;
}

/** The live summary of run `tag` (if any) and the process's memory (after a full GC when `gc`). */
export async function loadStats(worker: WorkerHandle, tag?: string, gc = false): Promise<LoadStats> {
  const message = await worker.process.request({ type: 'load', action: 'stats', tag, gc }, 20_000);
  if (!message.ok) throw new Error(`${worker.process.label}: stats failed: ${message.error.message}`);
  return message.value as LoadStats;
}

/** Run `tag` starts no more calls; its runLoad() then resolves once the calls in flight settled. */
export async function stopLoad(worker: WorkerHandle, tag: string): Promise<void> {
  const message = await worker.process.request({ type: 'load', action: 'stop', tag }, 20_000);
  if (!message.ok) throw new Error(`${worker.process.label}: stop failed: ${message.error.message}`);
}

/**
 * Starts a long run of retried echo/status calls from `caller` (for rolling restarts and
 * rotations) and resolves once calls flow; the returned promise is the run's summary, settled
 * after stopLoad(caller, tag).
 */
export async function startRollingLoad(
  caller: WorkerHandle,
  tag: string,
  concurrency: number,
): Promise<{ summary: Promise<LoadSummary> }> {
  const summary = runLoad(
    caller,
    {
      tag,
      worker: 'NodeB',
      mix: { echo: 3, status: 1 },
      payloadSize: 64,
      concurrency,
      options: { retries: 3, timeout: 10_000 },
      durationMs: 120_000,
    },
    150_000,
  );
  await waitFor(async () => ((await loadStats(caller, tag)).run?.ok ?? 0) > 50, 15_000, 'calls running');
  return { summary };
}

/** Resolves once `variant` answered a call of run `tag` that `caller` made from now on. */
export async function answeringFrom(caller: WorkerHandle, tag: string, variant: string): Promise<void> {
  const since = Date.now();
  await waitFor(
    async () => ((await loadStats(caller, tag)).run?.byVariant[variant]?.lastAt ?? 0) > since,
    20_000,
    `${variant} answering`,
  );
}

/** Adds summaries of several callers up (failures and per-variant stats concatenated / merged). */
export function mergeSummaries(summaries: LoadSummary[]): LoadSummary {
  const out = emptySummary(
    summaries.map((s) => s.tag).join('+'),
    Math.min(...summaries.map((s) => s.startedAt)),
    Math.max(...summaries.map((s) => s.endedAt)),
  );
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const s of summaries) {
    out.calls += s.calls;
    out.settled += s.settled;
    out.ok += s.ok;
    add(out.byCode, s.byCode);
    add(out.partialInner, s.partialInner);
    for (const [c, v] of Object.entries(s.byCommand)) {
      const into = (out.byCommand[c] ??= { calls: 0, ok: 0 });
      into.calls += v.calls;
      into.ok += v.ok;
    }
    out.mismatches += s.mismatches;
    out.mismatchSamples.push(...s.mismatchSamples);
    out.duplicates += s.duplicates;
    out.peakInFlight += s.peakInFlight;
    out.maxLatencyMs = Math.max(out.maxLatencyMs, s.maxLatencyMs);
    out.p50LatencyMs = Math.max(out.p50LatencyMs, s.p50LatencyMs);
    out.p99LatencyMs = Math.max(out.p99LatencyMs, s.p99LatencyMs);
    for (const [k, v] of Object.entries(s.maxLatencyByOutcome))
      out.maxLatencyByOutcome[k] = Math.max(out.maxLatencyByOutcome[k] ?? 0, v);
    for (const [variant, v] of Object.entries(s.byVariant)) {
      const into = out.byVariant[variant];
      if (!into) out.byVariant[variant] = { ...v, resumes: [...v.resumes] };
      else {
        into.ok += v.ok;
        into.firstAt = Math.min(into.firstAt, v.firstAt);
        into.lastAt = Math.max(into.lastAt, v.lastAt);
        into.resumes.push(...v.resumes);
        into.resumes.sort((a, b) => a - b);
      }
    }
    out.failures.push(...s.failures);
    out.failuresDropped += s.failuresDropped;
  }
  out.durationMs = out.endedAt - out.startedAt;
  return out;
}

/** One line per fact, for the test output. */
export function describeSummary(title: string, s: LoadSummary): string {
  const codes =
    Object.keys(s.byCode).length === 0
      ? 'none'
      : Object.entries(s.byCode)
          .map(([c, n]) => `${c}=${n}`)
          .join(', ');
  const inner = Object.entries(s.partialInner)
    .map(([c, n]) => `${c}=${n}`)
    .join(', ');
  const variants = Object.entries(s.byVariant)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([v, x]) => `${v}=${x.ok}`)
    .join(', ');
  return [
    `${title}`,
    `  calls ${s.calls}, settled ${s.settled}, ok ${s.ok}, mismatches ${s.mismatches}, duplicates ${s.duplicates}, peak in flight ${s.peakInFlight}`,
    `  failures by code: ${codes}${inner ? ` (inside MESH_PARTIAL_FAILURE, per instance: ${inner})` : ''}`,
    `  by command: ${Object.entries(s.byCommand)
      .map(([c, v]) => `${c} ${v.ok}/${v.calls}`)
      .join(', ')}`,
    `  latency ms: p50 ${s.p50LatencyMs}, p99 ${s.p99LatencyMs}, max ${s.maxLatencyMs}; slowest per outcome ${JSON.stringify(s.maxLatencyByOutcome)}`,
    `  answers per instance: ${variants}`,
    `  duration ${s.durationMs} ms (${Math.round((s.calls / Math.max(1, s.durationMs)) * 1000)} calls/s)`,
  ].join('\n');
}

/** Resolves when `caller` has exactly the NodeB variants `expected` connected (no more, no fewer). */
export async function waitForPeers(
  caller: WorkerHandle,
  worker: string,
  expected: readonly string[],
  timeoutMs = 20_000,
): Promise<void> {
  const want = [...expected].sort().join(',');
  let last = '';
  await waitFor(
    async () => {
      last = (await caller.peers(worker))
        .map((p) => p.variant)
        .sort()
        .join(',');
      return last === want;
    },
    timeoutMs,
    `${caller.variant} to see ${worker} [${want}] (last: [${last}])`,
    50,
  );
}

/** GET /socket-mesh/nodes of a Nest manager. */
export async function registry(manager: ManagerHandle): Promise<{ worker: string; variant: string; port: number }[]> {
  const response = await fetch(`http://127.0.0.1:${manager.httpPort}/socket-mesh/nodes`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET /socket-mesh/nodes answered ${response.status}`);
  return (await response.json()) as { worker: string; variant: string; port: number }[];
}

export const MiB = 1024 * 1024;

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
