import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { BatchProgress } from './batch-progress.js';
import { openJobBatch, openJobPayload } from './job-payload.js';
import { runHandler, runningJob, type RunningJob } from './running-job.js';
import { MeshError, MeshErrorCode } from '../errors.js';
import type { MeshLogger } from '../logger.js';
import { RECOVERY_WAIT_MS, workerOptions } from './bullmq-settings.js';
import type { CommandQueue, QueueHandler, QueueTarget } from './command-queue.js';
import { cancellableDelay, DEFAULT_DRAIN_TIMEOUT_MS, errorMessage, settlesWithin } from './deadline.js';
import { JobWriter } from './job-writer.js';
import { whenUsable, type RedisClients, type WorkerConnection } from './redis-clients.js';
import type { RedisOutage } from './redis-outage.js';
import { retryJob, type BatchSettings, type StoredRequest } from './redis-batch.js';
import { isSealedBatch, type BatchEntry, type PayloadSealer } from './sealed-payload.js';
import { readJobTrace, type JobTrace } from '../telemetry/trace-slot.js';

export interface RedisCommandQueueContext {
  clients: RedisClients;
  prefix: string;
  attempts: number;
  backoff: number;
  logger: MeshLogger;
  outage: RedisOutage;
  sealer: PayloadSealer;
  onClosed: () => void;
}

/** How long shutdown steps that talk to Redis may take once the drain is over. */
const CLOSE_GRACE_MS = 2_000;
/** How often start-up looks whether jobs a previous run left active are back in the wait list. */
const RECOVERY_POLL_MS = 500;

/** One target's queue in Redis: a BullMQ Queue stores requests, a Worker (concurrency 1) runs them. */
export class RedisCommandQueue implements CommandQueue {
  private readonly queue: Queue<StoredRequest>;
  private readonly worker: Worker<StoredRequest, void>;
  private readonly connection: WorkerConnection;
  private running: RunningJob | undefined;
  private cancelRecoveryWait: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly writer: JobWriter;
  private readonly settings: BatchSettings;
  private readonly progress: BatchProgress;

  constructor(
    readonly name: string,
    private readonly target: QueueTarget,
    private readonly handler: QueueHandler,
    private readonly context: RedisCommandQueueContext,
  ) {
    const { clients, prefix, outage, logger } = context;
    this.settings = { queue: name, attempts: context.attempts, backoff: context.backoff, sealer: context.sealer };
    this.queue = new Queue<StoredRequest>(name, { connection: clients.producer, prefix });
    this.writer = new JobWriter(name, {
      queue: this.queue,
      target,
      settings: this.settings,
      producer: clients.producer,
      outage,
      closing: () => this.closing !== undefined,
      closedError: () => this.closedError(),
    });
    this.connection = clients.workerConnection();
    this.progress = new BatchProgress(
      (jobId, next) => this.connection.client.hset(this.queue.toKey(jobId), 'progress', next),
      (err) => outage.report(err, name),
    );
    this.worker = new Worker<StoredRequest, void>(name, (job, token) => this.process(job, token), {
      ...workerOptions(prefix),
      connection: this.connection.client,
    });
    // Queue and Worker re-emit their connections' errors; an 'error' nobody listens to would throw.
    this.queue.on('error', (err) => outage.report(err, name));
    this.worker.on('error', (err) => outage.report(err, name));
    this.worker.on('completed', (job) => this.recorded(job.id));
    this.worker.on('failed', (job, err) => {
      this.recorded(job?.id);
      this.logFailure(job, err);
    });
    this.worker.on('stalled', (jobId) =>
      logger.warn(`${name}: job ${jobId} was interrupted (its process stopped mid-job); running it again`),
    );
    void this.start();
  }

  add(requestId: string, payload: unknown, job?: JobTrace): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    if (typeof requestId !== 'string' || requestId === '') {
      return Promise.reject(new TypeError(`${this.name}: requestId must be a non-empty string`));
    }
    return this.writer.add(requestId, payload, job);
  }

  close(drainTimeout = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(drainTimeout);
    return this.closing;
  }

  /**
   * Jobs left active by a previous run of this instance (killed mid-job) belong to nobody now,
   * but BullMQ only hands them back once their lock has expired. Waiting for that before taking
   * new work keeps them ahead of the requests stored after them.
   */
  private async start(): Promise<void> {
    try {
      await whenUsable(this.context.clients.producer);
      let stranded = await this.queue.getActiveCount();
      if (stranded > 0) {
        this.context.logger.warn(
          `${this.name}: ${stranded} job(s) interrupted by a previous run; running them first (within ${RECOVERY_WAIT_MS / 1000} s)`,
        );
        void this.worker.startStalledCheckTimer();
        const deadline = Date.now() + RECOVERY_WAIT_MS;
        while (stranded > 0 && !this.closing && Date.now() < deadline) {
          const pause = cancellableDelay(RECOVERY_POLL_MS);
          this.cancelRecoveryWait = pause.cancel;
          await pause.done;
          stranded = await this.queue.getActiveCount();
        }
      }
    } catch (err) {
      // Redis is not there yet: the worker's own stalled check hands such jobs back later.
      if (!this.closing) this.context.outage.report(err, this.name);
    } finally {
      this.cancelRecoveryWait = undefined;
    }
    if (this.closing) return;
    this.worker.run().catch((err: unknown) => this.context.outage.report(err, this.name));
  }

  private async process(job: Job<StoredRequest>, token?: string): Promise<void> {
    // Fetched while shutting down: not ours to start any more.
    if (this.closing) return this.handBack(job, token);
    if (typeof job.data?.failed === 'string') throw new UnrecoverableError(job.data.failed);

    const running = runningJob(job.id);
    this.running = running;

    const batch = isSealedBatch(job.data?.sealed);
    const entries: BatchEntry[] = batch
      ? openJobBatch(this.context.sealer, this.name, job)
      : [{ id: job.id ?? '', payload: undefined }];
    const traces = batch ? (job.data.traces ?? []) : [job.data?.trace];
    // A batch a crash or a shutdown interrupted goes on after the last request it recorded as run.
    const first = batch && typeof job.progress === 'number' ? Math.max(0, Math.floor(job.progress)) : 0;
    const progress = this.progress.tracker(job);
    for (let i = first; i < entries.length; i++) {
      // Shutting down between two requests of a batch: the rest goes back, the ones that ran do not.
      if (batch && this.closing) {
        progress.cancel();
        return this.handBackRest(job, token, i, running);
      }
      const trace = readJobTrace(traces[i]);
      const handled = runHandler(
        () => this.handler(batch ? entries[i]!.payload : openJobPayload(this.context.sealer, this.name, job), trace),
        running,
      );
      const outcome = handled instanceof Promise ? await handled : handled;
      if (outcome === 'abandoned') {
        running.handlerDone = true;
        // The handler keeps running here, but its outcome has nowhere to go: the job goes back to
        // the head of the wait list without using up an attempt, and the next start of this
        // instance runs it again (at least once).
        progress.cancel();
        return this.handBackRest(job, token, i, running);
      }
      if (outcome !== 'done') {
        if (!batch) {
          running.handlerDone = true;
          throw outcome.err;
        }
        await this.retryAlone(job, entries[i]!, trace, outcome.err);
      }
      if (batch && i < entries.length - 1) progress.note(i + 1);
    }
    progress.cancel();
    running.handlerDone = true;
  }

  /** A request that failed inside a batch goes on as a job of its own; the batch goes on without it. */
  private async retryAlone(job: Job<StoredRequest>, entry: BatchEntry, trace: JobTrace | undefined, err: unknown): Promise<void> {
    const message = errorMessage(err);
    const retry = retryJob(entry, trace, message, this.settings);
    if (this.context.attempts > 1) {
      this.context.logger.warn(
        `${this.name}: request ${entry.id} (job ${job.id}) attempt 1/${this.context.attempts} failed: ${message}; retrying as job ${retry.jobId}`,
      );
    }
    // When this fails (Redis gone), so does the batch: it runs again, whole (at least once).
    await this.queue.add(this.target.command, retry.data, retry.options);
  }

  /** Hands the job back to run again from request `from` on (the ones before it ran). */
  private async handBackRest(
    job: Job<StoredRequest>,
    token: string | undefined,
    from: number,
    running: RunningJob,
  ): Promise<never> {
    try {
      if (from > 0) await this.progress.record(job, from);
      return await this.handBack(job, token);
    } finally {
      running.markRecorded();
    }
  }

  /** Back to the head of the wait list, attempts untouched; BullMQ takes WaitingError as "moved, not failed". */
  private async handBack(job: Job<StoredRequest>, token: string | undefined): Promise<never> {
    if (token) {
      await job.moveToWait(token).catch((err: unknown) => this.context.outage.report(err, this.name));
    }
    throw new WaitingError();
  }

  private recorded(jobId: string | undefined): void {
    const running = this.running;
    if (!running || running.jobId !== jobId) return;
    this.running = undefined;
    running.markRecorded();
  }

  private logFailure(job: Job<StoredRequest> | undefined, err: Error): void {
    const { logger, attempts } = this.context;
    if (!job) {
      logger.error(`${this.name}: a job failed: ${err.message}`);
      return;
    }
    // A request retried out of a batch used one attempt there.
    const made = job.attemptsMade + (typeof job.data?.tried === 'number' ? job.data.tried : 0);
    if (!job.finishedOn) {
      // BullMQ sets finishedOn only when it gives up on the job.
      logger.warn(`${this.name}: job ${job.id} attempt ${made}/${attempts} failed: ${err.message}; retrying`);
    } else {
      logger.error(`${this.name}: job ${job.id} failed after ${made} attempt(s): ${err.message}; kept as a failed job`);
    }
  }

  /**
   * The drain is ours, not BullMQ's: Worker.close() without force first waits for its blocking
   * connection to end, and a connection caught between reconnect attempts never ends (ioredis
   * only cancels its retry timer), so a close during a Redis outage would hang for good. Here
   * the wait is for the running job's outcome to be in Redis, bounded; then the worker is
   * closed with force, which waits for nothing.
   */
  private async shutdown(drainTimeout: number): Promise<void> {
    const { logger } = this.context;
    this.cancelRecoveryWait?.();
    // No next job once the running one is recorded.
    this.worker.pause(true).catch(() => {});

    const running = this.running;
    if (running && !(await settlesWithin(running.recorded, drainTimeout))) {
      if (running.handlerDone) {
        logger.warn(
          `${this.name}: the outcome of job ${running.jobId ?? '?'} could not be recorded within ${drainTimeout} ms (Redis unreachable?); it runs again on the next start`,
        );
      } else {
        logger.warn(
          `${this.name}: job ${running.jobId ?? '?'} still running after ${drainTimeout} ms; handing it back to the queue`,
        );
        running.abandon();
        await settlesWithin(running.recorded, CLOSE_GRACE_MS);
      }
    }

    if (!(await settlesWithin(this.worker.close(true), CLOSE_GRACE_MS))) {
      logger.error(`${this.name}: the BullMQ worker did not close within ${CLOSE_GRACE_MS} ms`);
    }
    // QUIT waits for the replies still in flight, the last job's record among them.
    await this.connection.close();
    await settlesWithin(this.queue.close(), CLOSE_GRACE_MS);
    this.context.onClosed();
  }

  private closedError(): MeshError {
    return new MeshError(MeshErrorCode.CLOSED, `queue ${this.name} is closed`, {
      worker: this.target.worker,
      variant: this.target.variant,
      command: this.target.command,
    });
  }
}
