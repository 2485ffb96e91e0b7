import type { JobsOptions, WorkerOptions } from 'bullmq';

/**
 * The BullMQ timings behind the Redis queues' promise: a request stored and not completed is run
 * again within 30 s of the same instance (variant) restarting, also when the process was killed
 * in the middle of it.
 *
 * BullMQ finds such a job in two passes of its stalled-job check: the first pass marks every
 * active job, a later pass moves a marked job whose lock has expired back to the head of the
 * wait list. After a restart the interrupted job therefore runs again within
 * LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS = 20 s (BullMQ's defaults, 30 s and 30 s, give up to
 * 90 s).
 */
export const LOCK_DURATION_MS = 10_000;
/**
 * A shorter lock would recover sooner but could take a job away from a live handler that blocks
 * the event loop longer than the lock (the lock is renewed every LOCK_DURATION_MS / 2 on a timer);
 * that job would then run twice.
 */
export const STALLED_INTERVAL_MS = 5_000;
/**
 * A job that kills its process (out of memory, native crash) is re-run this many times, then
 * failed, instead of taking the instance down on every restart.
 */
export const MAX_STALLED_COUNT = 2;
/**
 * BullMQ pauses this long after a Redis connection error before its worker fetches again; its
 * default (15 s) would leave jobs waiting long after Redis is back.
 */
export const RUN_RETRY_DELAY_MS = 1_000;
/** Upper bound of the start-up wait for jobs a previous run left active (see RedisCommandQueue.start). */
export const RECOVERY_WAIT_MS = LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS + 1_000;

/** Completed jobs kept so that a late duplicate delivery of a request that already ran is still recognised. */
const KEEP_COMPLETED = 100;
/** Failed jobs (every attempt failed) kept for inspection. */
const KEEP_FAILED = 1_000;

export function workerOptions(prefix: string): Omit<WorkerOptions, 'connection'> {
  return {
    prefix,
    // One at a time, in arrival order: BullMQ's wait list is FIFO.
    concurrency: 1,
    // Started by hand once jobs left active by a previous run are back in the wait list.
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
