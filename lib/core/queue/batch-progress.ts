import type { Job } from 'bullmq';

/**
 * Where a batch job stands: BullMQ's own `progress` field of the job, written on the worker's
 * connection ahead of the job's completion (same connection, so in order), not awaited by the
 * run: a crash before it lands runs the requests of the last turn again (at least once).
 */
export class BatchProgress {
  constructor(
    /** Writes `progress` of the job with this id. */
    private readonly write: (jobId: string, next: number) => Promise<unknown>,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Records that the requests before `next` ran. */
  record(job: Job, next: number): Promise<void> {
    if (!job.id) return Promise.resolve();
    return this.write(job.id, next).then(() => undefined, this.failed);
  }

  /**
   * At most one progress write per turn of the event loop, with the latest position: requests
   * that finish within one turn (quick handlers) cost no write, and none is sent once the batch
   * is over; a request that spans turns is recorded before the next one starts its own.
   */
  tracker(job: Job): { note(next: number): void; cancel(): void } {
    let next = 0;
    let timer: NodeJS.Immediate | undefined;
    return {
      note: (value) => {
        next = value;
        timer ??= setImmediate(() => {
          timer = undefined;
          void this.record(job, next);
        });
      },
      cancel: () => {
        if (timer) clearImmediate(timer);
        timer = undefined;
      },
    };
  }
}
