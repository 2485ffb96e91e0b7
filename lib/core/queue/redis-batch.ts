import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { jobIdFor, jobOptions } from './bullmq-settings.js';
import type { BatchEntry, PayloadSealer } from './sealed-payload.js';
import type { JobTrace } from '../telemetry/trace-slot.js';

/*
 * The requests one instance is handed together (those of one sealed frame: they are dispatched
 * synchronously, and the batch is stored on the microtask after them) are stored as one BullMQ job: one add, one fetch and one
 * completion in Redis for all of them, where a job per request paid each of those per request.
 * What the mesh promises is unchanged: each request is acknowledged only once the job holding it
 * is in Redis; the worker runs the job's requests one at a time in their order, and jobs in
 * theirs; a job a crash interrupted runs again from the request it was running (its progress
 * is recorded per request; at least once). A request whose handler
 * throws leaves the batch as a job of its own (retried with the backoff, kept as failed), so the
 * requests after it go on, as they did with a job per request.
 *
 * A batch of a single request is stored exactly as before: job id from the request id, which
 * is what makes a redelivered request be stored once. Requests stored in a batch are not
 * recognised that way (the mesh never redelivers; see CommandQueue.add).
 */

/** What a job holds: payloads sealed (AEAD, bound to this queue and job id), never in clear. */
export interface StoredRequest {
  /** One payload (`sm1`), or a batch of requests (`smb1`, see isSealedBatch). */
  sealed: string;
  /** Trace context and storage time (telemetry on): not secret, kept beside the sealed payload. */
  trace?: JobTrace;
  /** A batch's traces, by position (null: none). */
  traces?: (JobTrace | null)[];
  /** Attempts a request used inside a batch before it got a job of its own (its retries). */
  tried?: number;
  /** Its only attempt failed inside a batch: kept as a failed job with this message, not run. */
  failed?: string;
}

/** Requests per job at most; a frame with more stores several jobs, in order. */
export const MAX_BATCH = 64;

export interface PendingAdd extends BatchEntry {
  job: JobTrace | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatchSettings {
  queue: string;
  attempts: number;
  backoff: number;
  sealer: PayloadSealer;
}

/** The job that stores `adds` (one or more, in order): its id, data and options. */
export function storedJob(
  adds: readonly PendingAdd[],
  { queue, attempts, backoff, sealer }: BatchSettings,
): { jobId: string; data: StoredRequest; options: JobsOptions } {
  if (adds.length === 1) {
    const { id, payload, job } = adds[0]!;
    const jobId = jobIdFor(id);
    const data: StoredRequest = { sealed: sealer.seal(payload, { queue, jobId }) };
    if (job) data.trace = job;
    return { jobId, data, options: jobOptions(jobId, attempts, backoff) };
  }
  // '%b' never comes out of jobIdFor (it escapes every '%'): a batch never takes a request's job id.
  const jobId = `%b${randomUUID()}`;
  const data: StoredRequest = { sealed: sealer.sealBatch(adds, { queue, jobId }) };
  if (adds.some((a) => a.job)) data.traces = adds.map((a) => a.job ?? null);
  return { jobId, data, options: jobOptions(jobId, attempts, backoff) };
}

/**
 * The job a request that failed inside a batch continues as: the retries it has left, with the
 * delays it would have had as a job of its own (BullMQ doubles from `backoff` per attempt made);
 * with none left, a job that is recorded as failed without running.
 */
export function retryJob(
  entry: BatchEntry,
  trace: JobTrace | undefined,
  message: string,
  { queue, attempts, backoff, sealer }: BatchSettings,
): { jobId: string; data: StoredRequest; options: JobsOptions } {
  const jobId = jobIdFor(entry.id);
  const data: StoredRequest = { sealed: sealer.seal(entry.payload, { queue, jobId }) };
  if (trace) data.trace = trace;
  if (attempts <= 1) {
    data.failed = message;
    return { jobId, data, options: jobOptions(jobId, 1, backoff) };
  }
  data.tried = 1;
  return { jobId, data, options: { ...jobOptions(jobId, attempts - 1, backoff * 2), delay: backoff } };
}
