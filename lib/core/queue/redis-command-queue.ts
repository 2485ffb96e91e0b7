import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import { MeshError, MeshErrorCode } from '../errors.js';
import type { MeshLogger } from '../logger.js';
import { jobIdFor, jobOptions, RECOVERY_WAIT_MS, workerOptions } from './bullmq-settings.js';
import type { CommandQueue, QueueHandler, QueueTarget } from './command-queue.js';
import { cancellableDelay, DEFAULT_DRAIN_TIMEOUT_MS, errorMessage, settlesWithin, within } from './deadline.js';
import { RECONNECT_SETTLE_MS, whenUsable, type RedisClients, type WorkerConnection } from './redis-clients.js';
import type { RedisOutage } from './redis-outage.js';

/** What a job holds: the payload boxed, so that an `undefined` payload survives BullMQ's JSON. */
interface StoredRequest {
  payload?: unknown;
}

export interface RedisCommandQueueContext {
  clients: RedisClients;
  prefix: string;
  attempts: number;
  backoff: number;
  logger: MeshLogger;
  outage: RedisOutage;
  onClosed: () => void;
}

/** Bound on writing one job: a command stuck on a half-open connection must not hold the caller. */
const ADD_TIMEOUT_MS = 5_000;
/** After the drain timeout, how long the worker may take to let go of the abandoned job and close. */
const CLOSE_GRACE_MS = 2_000;
/** How often start-up looks whether jobs a previous run left active are back in the wait list. */
const RECOVERY_POLL_MS = 500;

/** One target's queue in Redis: a BullMQ Queue to store requests, a Worker (concurrency 1) to run them. */
export class RedisCommandQueue implements CommandQueue {
  private readonly queue: Queue<StoredRequest>;
  private readonly worker: Worker<StoredRequest, void>;
  private readonly connection: WorkerConnection;
  private running: { jobId: string | undefined; abandon: () => void } | undefined;
  private cancelRecoveryWait: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly target: QueueTarget,
    private readonly handler: QueueHandler,
    private readonly context: RedisCommandQueueContext,
  ) {
    const { clients, prefix, outage } = context;
    this.queue = new Queue<StoredRequest>(name, { connection: clients.producer, prefix });
    this.connection = clients.workerConnection();
    this.worker = new Worker<StoredRequest, void>(name, (job, token) => this.process(job, token), {
      ...workerOptions(prefix),
      connection: this.connection.client,
    });
    // Queue and Worker re-emit their connections' errors; an 'error' nobody listens to would throw.
    this.queue.on('error', (err) => outage.report(err, name));
    this.worker.on('error', (err) => outage.report(err, name));
    this.worker.on('failed', (job, err) => this.onFailed(job, err));
    this.worker.on('stalled', (jobId) =>
      context.logger.warn(`${name}: job ${jobId} was interrupted (its process stopped mid-job); running it again`),
    );
    void this.start();
  }

  async add(requestId: string, payload: unknown): Promise<void> {
    if (this.closing) throw this.closedError();
    if (typeof requestId !== 'string' || requestId === '') {
      throw new TypeError(`${this.name}: requestId must be a non-empty string`);
    }
    const { attempts, backoff, clients, outage } = this.context;
    try {
      await whenUsable(clients.producer);
      await within(
        this.queue.add(this.target.command, { payload }, jobOptions(jobIdFor(requestId), attempts, backoff)),
        ADD_TIMEOUT_MS,
        () => new Error(`storing took longer than ${ADD_TIMEOUT_MS} ms`),
      );
    } catch (err) {
      if (this.closing) throw this.closedError();
      outage.report(err, this.name);
      throw new MeshError(
        MeshErrorCode.QUEUE_UNAVAILABLE,
        `${this.name}: request ${requestId} not stored: ${errorMessage(err)}`,
        { worker: this.target.worker, variant: this.target.variant, command: this.target.command },
      );
    }
  }

  close(drainTimeout = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(drainTimeout);
    return this.closing;
  }

  /**
   * Jobs left active by a previous run of this instance (killed mid-job) belong to nobody now,
   * but BullMQ only hands them back once their lock has expired. Waiting for that before taking
   * new work keeps them ahead of requests stored after them, as they arrived.
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
      this.context.outage.report(err, this.name);
    } finally {
      this.cancelRecoveryWait = undefined;
    }
    if (this.closing) return;
    this.worker.run().catch((err: unknown) => this.context.outage.report(err, this.name));
  }

  private async process(job: Job<StoredRequest>, token?: string): Promise<void> {
    const work = Promise.resolve().then(() => this.handler(job.data.payload));
    let abandon = (): void => {};
    const abandoned = new Promise<'abandoned'>((resolve) => {
      abandon = () => resolve('abandoned');
    });
    this.running = { jobId: job.id, abandon };
    try {
      const outcome = await Promise.race([work.then(() => 'done' as const), abandoned]);
      if (outcome === 'abandoned') {
        // Shutdown could not wait any longer. The handler keeps running here, but its outcome
        // has nowhere to go: the job goes back to the head of the wait list without using up an
        // attempt, and the next start of this instance runs it again (at least once).
        work.catch(() => {});
        if (token) await job.moveToWait(token).catch((err: unknown) => this.context.outage.report(err, this.name));
        throw new WaitingError();
      }
    } finally {
      this.running = undefined;
    }
  }

  private onFailed(job: Job<StoredRequest> | undefined, err: Error): void {
    const { logger, attempts } = this.context;
    if (!job) {
      logger.error(`${this.name}: a job failed: ${err.message}`);
    } else if (!job.finishedOn) {
      // BullMQ sets finishedOn only when it gives up on the job.
      logger.warn(`${this.name}: job ${job.id} attempt ${job.attemptsMade}/${attempts} failed: ${err.message}; retrying`);
    } else {
      logger.error(
        `${this.name}: job ${job.id} failed after ${job.attemptsMade} attempt(s): ${err.message}; kept as a failed job`,
      );
    }
  }

  private async shutdown(drainTimeout: number): Promise<void> {
    this.cancelRecoveryWait?.();
    const { logger } = this.context;
    if (this.connection.client.status === 'ready') {
      await this.closeWorker(drainTimeout);
    } else {
      // Redis is away: nothing the worker still has to say can reach it, and BullMQ's graceful
      // close would wait for a reconnect that may never come. A job it was running stays active
      // in Redis and is run again on the next start (see start()).
      logger.warn(`${this.name}: closing while Redis is unreachable; a running job is left to the next start`);
      this.connection.stopReconnecting();
      if (!(await settlesWithin(this.worker.close(true), CLOSE_GRACE_MS))) {
        logger.error(`${this.name}: the BullMQ worker did not close within ${CLOSE_GRACE_MS} ms`);
      }
    }
    await this.connection.close();
    await settlesWithin(this.queue.close(), CLOSE_GRACE_MS);
    this.context.onClosed();
  }

  /** Worker.close() stops fetching at once, then waits for the running job. */
  private async closeWorker(drainTimeout: number): Promise<void> {
    const { logger } = this.context;
    const workerClosed = this.worker.close();
    if (await settlesWithin(workerClosed, drainTimeout)) return;
    const running = this.running;
    if (running) {
      logger.warn(`${this.name}: job ${running.jobId ?? '?'} still running after ${drainTimeout} ms; handing it back to the queue`);
      running.abandon();
    } else {
      logger.warn(`${this.name}: the worker could not record its last job within ${drainTimeout} ms (is Redis reachable?)`);
    }
    if (await settlesWithin(workerClosed, CLOSE_GRACE_MS)) return;
    // Still not closed: Redis went away meanwhile and the worker waits on commands that wait for
    // a reconnect. Ending its connection at the next failed attempt fails them and lets it close.
    this.connection.stopReconnecting();
    if (await settlesWithin(workerClosed, RECONNECT_SETTLE_MS)) return;
    logger.error(`${this.name}: the BullMQ worker did not close`);
  }

  private closedError(): MeshError {
    return new MeshError(MeshErrorCode.CLOSED, `queue ${this.name} is closed`, {
      worker: this.target.worker,
      variant: this.target.variant,
      command: this.target.command,
    });
  }
}
