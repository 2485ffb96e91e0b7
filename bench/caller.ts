/**
 * The closed-loop load generator both caller processes share: `concurrency` loops, each
 * issuing its next call when the previous one settled, for `durationMs`. It measures what this
 * process sees: calls/s, latency percentiles and this process's own CPU time per call.
 */
import { monotonicUs, nowEpochMs, type PayloadKind, type Target } from './config.js';
import { serve, type Handlers } from './ipc.js';
import { LatencyRecorder } from './stats.js';

export interface RunSpec {
  target: Target;
  payload: PayloadKind;
  concurrency: number;
  durationMs: number;
  /** Record per-call latency (c=1 runs). */
  latency: boolean;
}

export interface RunResult {
  /** Calls that settled (answered or failed), in flight ones at the end included. */
  calls: number;
  errors: number;
  firstError?: string;
  /** From the first call to the last one settled. */
  elapsedMs: number;
  /** When the first call started, epoch ms (to line up with the callees' clocks). */
  startedAt: number;
  callsPerSec: number;
  /** user + system CPU of this process over the run, µs. */
  cpuUs: number;
  /** The run on this process's monotonic clock (µs, as V8 CPU profiles time their samples). */
  window: { fromUs: number; toUs: number };
  p50Us?: number;
  p99Us?: number;
}

export type CallFactory = (target: Target, payload: PayloadKind) => () => Promise<unknown>;

export async function runLoad(
  call: () => Promise<unknown>,
  spec: Pick<RunSpec, 'concurrency' | 'durationMs' | 'latency'>,
): Promise<RunResult> {
  const latencies = spec.latency ? new LatencyRecorder() : undefined;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const fromUs = monotonicUs();
  const startedAt = nowEpochMs();
  const t0 = performance.now();
  const end = t0 + spec.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        await call();
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
      }
      calls++;
      latencies?.push((performance.now() - started) * 1000);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: RunResult = {
    calls,
    errors,
    elapsedMs,
    startedAt,
    callsPerSec: (calls / elapsedMs) * 1000,
    cpuUs: cpu.user + cpu.system,
    window: { fromUs, toUs: monotonicUs() },
  };
  if (firstError !== undefined) result.firstError = firstError;
  if (latencies) Object.assign(result, { p50Us: latencies.summary().p50, p99Us: latencies.summary().p99 });
  return result;
}

/** Serves `run` (one load run, RunSpec → RunResult) plus the caller's own ops over IPC. */
export function serveCaller(makeCall: CallFactory, handlers: Handlers, stop: () => Promise<void>): void {
  serve(
    {
      ...handlers,
      run: (spec: RunSpec) => runLoad(makeCall(spec.target, spec.payload), spec),
    },
    stop,
  );
}
