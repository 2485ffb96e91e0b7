import { MeshError, MeshErrorCode } from '../errors.js';
import { silentLogger, type MeshLogger } from '../logger.js';
import { type CommandQueue, type QueueBackend, type QueueHandler, type QueueTarget, queueName } from './command-queue.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, errorMessage, settlesWithin } from './deadline.js';
import type { JobTrace } from '../telemetry/trace-slot.js';

interface PendingRequest {
  requestId: string;
  payload: unknown;
  job?: JobTrace;
}

/**
 * Queues held in this process: bounded, ordered, one at a time, and lost when the process exits.
 * `maxPending` counts a queue's stored and unfinished requests (waiting plus the running one);
 * beyond it `add` rejects QUEUE_FULL.
 */
export function createMemoryQueueBackend(options: { maxPending?: number; logger?: MeshLogger } = {}): QueueBackend {
  const maxPending = options.maxPending ?? 10_000;
  if (!Number.isInteger(maxPending) || maxPending < 1) {
    throw new TypeError(`maxPending must be a positive integer, got ${String(maxPending)}`);
  }
  const logger = options.logger ?? silentLogger;
  const open = new Map<string, MemoryQueue>();
  let closed = false;

  return {
    kind: 'memory',
    open(target: QueueTarget, handler: QueueHandler): CommandQueue {
      if (closed) throw new MeshError(MeshErrorCode.CLOSED, 'the memory queue backend is closed');
      const name = queueName(target);
      // Two queues for one target would run its requests two at a time.
      if (open.has(name)) throw new Error(`queue ${name} is already open`);
      const queue = new MemoryQueue(name, target, handler, maxPending, logger, () => open.delete(name));
      open.set(name, queue);
      return queue;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...open.values()].map((queue) => queue.close()));
    },
  };
}

class MemoryQueue implements CommandQueue {
  private readonly waiting: PendingRequest[] = [];
  /** Ids of stored, unfinished requests: an `add` with one of them is acknowledged, not stored twice. */
  private readonly pendingIds = new Set<string>();
  private running: { requestId: string; done: Promise<void> } | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly target: QueueTarget,
    private readonly handler: QueueHandler,
    private readonly maxPending: number,
    private readonly logger: MeshLogger,
    private readonly onClosed: () => void,
  ) {}

  waitingCount(): number {
    return this.waiting.length;
  }

  add(requestId: string, payload: unknown, job?: JobTrace): Promise<void> {
    if (this.closing) return Promise.reject(this.error(MeshErrorCode.CLOSED, `queue ${this.name} is closed`));
    if (typeof requestId !== 'string' || requestId === '') {
      return Promise.reject(new TypeError(`${this.name}: requestId must be a non-empty string`));
    }
    if (this.pendingIds.has(requestId)) return Promise.resolve();
    if (this.pendingIds.size >= this.maxPending) {
      return Promise.reject(this.error(MeshErrorCode.QUEUE_FULL, `queue ${this.name} holds ${this.maxPending} pending requests`));
    }
    this.pendingIds.add(requestId);
    this.waiting.push(job ? { requestId, payload, job } : { requestId, payload });
    this.runNext();
    return Promise.resolve();
  }

  close(drainTimeout = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(drainTimeout);
    return this.closing;
  }

  private async shutdown(drainTimeout: number): Promise<void> {
    const dropped = this.waiting.splice(0);
    for (const request of dropped) this.pendingIds.delete(request.requestId);
    if (dropped.length > 0) {
      this.logger.warn(`${this.name}: closing with ${dropped.length} request(s) not started; memory queues do not keep them`);
    }
    const running = this.running;
    if (running && !(await settlesWithin(running.done, drainTimeout))) {
      this.logger.warn(`${this.name}: request ${running.requestId} still running after ${drainTimeout} ms; closing without it`);
    }
    this.onClosed();
  }

  private runNext(): void {
    if (this.running) return;
    const next = this.waiting.shift();
    if (!next) return;
    // Started on a later tick: `add` acknowledges storage, it never runs the handler in the caller's stack.
    const done = Promise.resolve()
      .then(() => this.run(next))
      .finally(() => {
        this.pendingIds.delete(next.requestId);
        this.running = undefined;
        // Queued work is dropped at close; only the job already running is let finish.
        if (!this.closing) this.runNext();
      });
    this.running = { requestId: next.requestId, done };
  }

  private error(code: MeshErrorCode, message: string): MeshError {
    const { worker, variant, command } = this.target;
    return new MeshError(code, message, { worker, variant, command });
  }

  private async run(request: PendingRequest): Promise<void> {
    try {
      await this.handler(request.payload, request.job);
    } catch (err) {
      this.logger.error(`${this.name}: request ${request.requestId} failed: ${errorMessage(err)}`);
    }
  }
}
