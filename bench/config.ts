/** What every bench process agrees on: keys, payloads, command names, Redis address. */
import { silentLogger, type MeshLogger } from '../lib/core/logger.js';

export const BENCH_KEYS = Object.freeze({
  publicKey: 'socket-mesh-bench-public-key',
  privateKey: 'socket-mesh-bench-private-key-0123456789',
});

/** `small` is the seed's example; `kib` / `kib16` serialise to exactly 1024 / 16384 bytes of JSON (the answer is as large). */
export const PAYLOADS = {
  small: { test: 'data' },
  kib: { test: 'x'.repeat(1024 - '{"test":""}'.length) },
  kib16: { test: 'x'.repeat(16384 - '{"test":""}'.length) },
} as const;
export type PayloadKind = keyof typeof PAYLOADS;

/**
 * What a caller drives. Each has the same meaning on both sides:
 * - balanced: one request to the single callee, one answer (mesh `status` / raw `emitWithAck('status')`);
 * - responding: broadcast to 3 instances, gather the 3 answers (mesh `collect` / raw `io.timeout().emitWithAck('collect')`);
 * - plain: broadcast to 3, each instance acknowledges receipt then runs the handler
 *   (mesh resolves `{ delivered: 3 }` / raw `emitWithAck('notify')` acked on receipt);
 * - queued-memory: each of 3 instances stores the request in its in-process queue, acknowledges,
 *   and runs its queue one at a time (mesh memory queue / raw: an array queue per client);
 * - queued-redis: each of 3 instances has the request stored in Redis before the caller returns,
 *   and a BullMQ worker (concurrency 1) per instance runs it (mesh Redis queues / raw: the caller
 *   adds to 3 BullMQ queues directly, one Worker per instance process).
 */
export type Target = 'balanced' | 'responding' | 'plain' | 'queued-memory' | 'queued-redis';

export const COMMAND = {
  balanced: 'status',
  responding: 'collect',
  plain: 'notify',
  'queued-memory': 'ingest',
  'queued-redis': 'ingestRedis',
} as const satisfies Record<Target, string>;

export const CALLER_WORKER = 'NodeA';
export const CALLEE_WORKER = 'NodeB';
export const CALL_TIMEOUT_MS = 10_000;

/** Redis for the queued-redis rows: REDIS_URL (redis://host:port) when set, else 127.0.0.1:6379. */
export const REDIS: { host: string; port: number } = (() => {
  const url = process.env.REDIS_URL ? new URL(process.env.REDIS_URL) : undefined;
  return { host: url?.hostname || '127.0.0.1', port: Number(url?.port || 6379) };
})();

/**
 * The bench managers' logger: warnings and errors, except the near-miss hint a bench topology
 * always triggers (callers register before their callees exist, or the reverse).
 */
export function managerLogger(): MeshLogger {
  const warn = (m: string) => {
    if (!m.includes('which never registered')) console.warn(`[bench manager] ${m}`);
  };
  return { ...silentLogger, warn, error: (m) => console.error(`[bench manager] ${m}`) };
}

/** Epoch ms with sub-ms precision, comparable across the bench's processes. */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** This process's monotonic clock in µs: the time base of V8 CPU profile samples. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A process's memory after a full collection: resident set, and what JS holds (heap + external buffers). */
export interface Memory {
  rss: number;
  heap: number;
}

/** Memory after a full collection (the bench children run with --expose-gc). */
export function settledMemory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true; rejects after `timeoutMs` with `what`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
