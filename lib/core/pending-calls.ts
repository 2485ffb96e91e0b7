import { CallDeadlines } from './call-deadlines.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: MeshError) => void;
  /** performance.now() ms */
  deadline: number;
  timeoutMs: number;
  command: string;
  health: InstanceHealth | undefined;
}

/**
 * What a balanced call's failure detector (node/failure-detector.ts) hears of how a call to an
 * instance ended. Told by the link as it settles the call, instead of through a promise
 * wrapped around the call's own: that wrapper cost a promise, two closures and a microtask turn
 * per call.
 */
export interface InstanceHealth {
  success(variant: string): void;
  timeout(variant: string): void;
  inconclusive(variant: string): void;
}

/** Tells `health` how a call to `variant` ended: an answer (even an error) or not. */
export function reportOutcome(health: InstanceHealth | undefined, variant: string, error: MeshError | undefined): void {
  if (!health) return;
  const code = error?.code;
  if (code === MeshErrorCode.TIMEOUT) health.timeout(variant);
  else if (code === MeshErrorCode.PEER_DISCONNECTED || code === MeshErrorCode.OVERLOADED || code === MeshErrorCode.NO_PEER)
    health.inconclusive(variant);
  else health.success(variant); // it answered, possibly with an error
}

const settled = (): void => undefined;

/**
 * Drops a settled call's hold on its promise, so that whatever still reaches the entry after its
 * `delete` cannot keep the answer alive. Measured at 64 calls in flight with 16 KiB answers:
 * without it about 14 KB per call survived the young-generation GC and was promoted (and the
 * old generation's churn cost 2.4 page faults per call); with it 1.1 KB (bench/README.md,
 * "Answers kept alive past their call"). What reached the deleted entries was not pinned down;
 * V8 keeping a Map's replaced hash tables pointing at what they held would fit.
 */
function detach(call: PendingCall): void {
  call.resolve = settled;
  call.reject = settled;
}

/** Who a link's calls go to, for the errors they fail with. */
export interface CallTarget {
  readonly worker: string;
  readonly variant: string;
}

/**
 * The calls in flight on one link, by request id: each settles once, by its answer, by its
 * deadline (MESH_TIMEOUT) or when the link drops (MESH_PEER_DISCONNECTED). A late answer
 * finds no entry and is dropped.
 */
export class PendingCalls {
  private readonly calls = new Map<number, PendingCall>();
  private readonly deadlines = new CallDeadlines((now) => this.expire(now));
  private nextId = 1;

  constructor(private readonly target: CallTarget) {}

  get size(): number {
    return this.calls.size;
  }

  /** The id the next request will carry. */
  nextRequestId(): number {
    return this.nextId++;
  }

  /** Waits for the answer to request `id`, at most `timeoutMs`; `health` hears how it ended. */
  track(id: number, command: string, timeoutMs: number, health?: InstanceHealth): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.calls.set(id, { resolve, reject, deadline, timeoutMs, command, health });
      this.deadlines.add(deadline);
    });
  }

  /** Settles request `id` with the peer's result or serialized error; false when nobody waits for it. */
  answer(id: number, ok: boolean, value: unknown): boolean {
    const call = this.calls.get(id);
    if (!call) return false;
    this.calls.delete(id);
    if (this.calls.size === 0) this.deadlines.idle();
    if (ok) {
      const resolve = call.resolve;
      detach(call);
      reportOutcome(call.health, this.target.variant, undefined);
      resolve(value);
    } else {
      this.settle(call, this.remoteError(value, call.command));
    }
    return true;
  }

  /** Fails every call in flight with MESH_PEER_DISCONNECTED. */
  failAll(message: string): void {
    if (this.calls.size === 0) return;
    const calls = [...this.calls.values()];
    this.calls.clear();
    this.deadlines.stop();
    for (const call of calls) this.settle(call, this.error(MeshErrorCode.PEER_DISCONNECTED, message, call.command));
  }

  stop(): void {
    this.deadlines.stop();
  }

  /** A call that never left: fails at once with `code`, and `health` hears of it. */
  refuse(health: InstanceHealth | undefined, code: MeshError['code'], message: string, command: string): Promise<never> {
    const error = this.error(code, message, command);
    reportOutcome(health, this.target.variant, error);
    return Promise.reject(error);
  }

  error(code: MeshError['code'], message: string, command: string): MeshError {
    return new MeshError(code, message, { worker: this.target.worker, variant: this.target.variant, command });
  }

  /** Fails the calls due by `now`; returns the earliest deadline left. */
  private expire(now: number): number {
    let next = Infinity;
    for (const [id, call] of this.calls) {
      if (call.deadline <= now) {
        this.calls.delete(id);
        this.settle(
          call,
          this.error(
            MeshErrorCode.TIMEOUT,
            `${this.target.worker}/${this.target.variant} did not answer '${call.command}' within ${call.timeoutMs} ms`,
            call.command,
          ),
        );
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (this.calls.size === 0) this.deadlines.idle();
    return next;
  }

  private settle(call: PendingCall, error: MeshError): void {
    const reject = call.reject;
    detach(call);
    reportOutcome(call.health, this.target.variant, error);
    reject(error);
  }

  private remoteError(input: unknown, command: string): MeshError {
    const e = (typeof input === 'object' && input !== null ? input : {}) as Partial<SerializedMeshError>;
    const code = typeof e.code === 'string' && e.code.startsWith('MESH_') ? e.code : MeshErrorCode.REMOTE_ERROR;
    return new MeshError(code, typeof e.message === 'string' ? e.message : 'remote error', {
      worker: this.target.worker,
      variant: this.target.variant,
      command,
      remoteName: e.remoteName,
      status: e.status,
      response: e.response,
    });
  }
}
