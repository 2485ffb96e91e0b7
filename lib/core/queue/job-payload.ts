import { UnrecoverableError, type Job } from 'bullmq';
import { errorMessage } from './deadline.js';
import type { StoredRequest } from './redis-batch.js';
import type { BatchEntry, PayloadSealer } from './sealed-payload.js';

/**
 * The requests a stored job holds, opened. An entry that does not open was changed in Redis,
 * moved from another job, or sealed under a key this node no longer holds: it is never run, and
 * fails at once without retries (kept as a failed job).
 */
export function openJobBatch(sealer: PayloadSealer, queue: string, job: Job<StoredRequest>): BatchEntry[] {
  try {
    return sealer.openBatch(job.data?.sealed, { queue, jobId: job.id ?? '' });
  } catch (err) {
    throw new UnrecoverableError(`refused, not run: ${errorMessage(err)}`);
  }
}

/** The payload of a job holding one request, opened (see openJobBatch). */
export function openJobPayload(sealer: PayloadSealer, queue: string, job: Job<StoredRequest>): unknown {
  try {
    return sealer.open(job.data?.sealed, { queue, jobId: job.id ?? '' });
  } catch (err) {
    throw new UnrecoverableError(`refused, not run: ${errorMessage(err)}`);
  }
}
