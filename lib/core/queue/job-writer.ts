import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { MeshError, MeshErrorCode } from '../errors.js';
import type { JobTrace } from '../telemetry/trace-slot.js';
import type { QueueTarget } from './command-queue.js';
import { errorMessage, within } from './deadline.js';
import { MAX_BATCH, storedJob, type BatchSettings, type PendingAdd, type StoredRequest } from './redis-batch.js';
import { whenUsable } from './redis-clients.js';
import type { RedisOutage } from './redis-outage.js';

export interface JobWriterContext {
  queue: Queue<StoredRequest>;
  target: QueueTarget;
  settings: BatchSettings;
  producer: Redis;
  outage: RedisOutage;
  /** The queue is closing: what is still to store is refused with `closedError()`. */
  closing(): boolean;
  closedError(): MeshError;
}

/** Bound on writing one job: a command stuck on a half-open connection must not hold the caller. */
const ADD_TIMEOUT_MS = 5_000;

/**
 * The producer side of one queue in Redis: the requests handed over together (those of one
 * sealed frame) are written as one job (redis-batch.ts), and each is acknowledged once that job
 * is in Redis, or refused with the reason it is not.
 */
export class JobWriter {
  /** Adds not written yet: the ones handed over since the last microtask. */
  private pending: PendingAdd[] = [];

  constructor(
    private readonly name: string,
    private readonly context: JobWriterContext,
  ) {}

  add(id: string, payload: unknown, job: JobTrace | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) {
        // After the requests of this frame were handed over (they are, synchronously), not a turn later.
        queueMicrotask(() => this.flush());
      }
      this.pending.push({ id, payload, job, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
    });
  }

  private flush(): void {
    const adds = this.pending;
    if (adds.length === 0) return;
    this.pending = [];
    void this.store(adds);
  }

  private async store(adds: PendingAdd[]): Promise<void> {
    const { queue, target, settings, producer, outage } = this.context;
    try {
      if (this.context.closing()) throw this.context.closedError();
      const { data, options } = storedJob(adds, settings);
      await whenUsable(producer);
      await within(
        queue.add(target.command, data, options),
        ADD_TIMEOUT_MS,
        () => new Error(`storing took longer than ${ADD_TIMEOUT_MS} ms`),
      );
    } catch (err) {
      if (this.context.closing()) {
        for (const add of adds) add.reject(this.context.closedError());
        return;
      }
      outage.report(err, this.name);
      for (const add of adds) {
        add.reject(
          new MeshError(MeshErrorCode.QUEUE_UNAVAILABLE, `${this.name}: request ${add.id} not stored: ${errorMessage(err)}`, {
            worker: target.worker,
            variant: target.variant,
            command: target.command,
          }),
        );
      }
      return;
    }
    for (const add of adds) add.resolve();
  }
}
