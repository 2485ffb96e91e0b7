import type { JobsOptions, WorkerOptions } from 'bullmq';

/*
 * The BullMQ settings behind the Redis queues' promise: a request stored and not completed runs
 * again within 30 s of the same instance (variant) restarting, also when the process was killed
 * in the middle of it.
 *
 * BullMQ finds such a job with its stalled-job check, in two passes: one marks every active job,
 * a later one moves a marked job whose lock has expired back to the head of the wait list. After
 * a restart the interrupted job therefore runs again within
 * LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS = 20 s. BullMQ's defaults (30 s, 30 s) allow 90 s.
 */

/**
 * How long a job's lock outlives its last renewal (renewed every LOCK_DURATION_MS / 2 while the
 * handler runs). Shorter would recover sooner, but a handler that blocks the event loop longer
 * than the lock would lose its job to the stalled check and the job would run twice.
 */
export const LOCK_DURATION_MS = 10_000;
/** How often the worker looks for jobs whose process died. */
export const STALLED_INTERVAL_MS = 5_000;
/**
 * Recoveries of one job before it is failed: a job that kills its process (out of memory, native
 * crash) is re-run this many times, not on every restart forever.
 */
export const MAX_STALLED_COUNT = 2;
/**
 * BullMQ's pause after a Redis connection error before its worker fetches again; the default
 * (15 s) would leave jobs waiting long after Redis is back.
 */
export const RUN_RETRY_DELAY_MS = 1_000;
/** Upper bound of the start-up wait for jobs a previous run left active (see RedisCommandQueue.start). */
export const RECOVERY_WAIT_MS = LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS + 1_000;

/** Completed jobs kept, so that a late `add` with the id of a request that already ran is still recognised. */
const KEEP_COMPLETED = 100;
/** Failed jobs (every attempt failed) kept for inspection. */
const KEEP_FAILED = 1_000;

export function workerOptions(prefix: string): Omit<WorkerOptions, 'connection'> {
  return {
    prefix,
    // One at a time, in arrival order: BullMQ's wait list is FIFO.
    concurrency: 1,
    // Started by hand once jobs a previous run left active are back in the wait list.
    autorun: false,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    runRetryDelay: RUN_RETRY_DELAY_MS,
  };
}

export function jobOptions(jobId: string, attempts: number, backoff: number): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: backoff },
    removeOnComplete: { count: KEEP_COMPLETED },
    removeOnFail: { count: KEEP_FAILED },
  };
}

/**
 * BullMQ refuses custom job ids that look like integers or contain ':'. Request ids are escaped
 * one-to-one ('%' → '%25', ':' → '%3A', integer-like → '%i' + id) so that two requests never share
 * a job id and a redelivered request always maps to the same one.
 */
export function jobIdFor(requestId: string): string {
  const escaped = requestId.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'));
  return `${Number.parseInt(escaped, 10)}` === escaped ? `%i${escaped}` : escaped;
}
