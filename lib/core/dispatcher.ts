import { randomUUID } from 'node:crypto';
import { decodeMetadata, type CallContext } from './call-metadata.js';
import { lookupOwn, type LocalCommand } from './command-spec.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import { describe, serializeHandlerError, toSerialized } from './handler-errors.js';
import type { MeshLogger } from './logger.js';
import { encode, Msg, readCalleeMessage } from './protocol.js';
import type { CommandQueue } from './queue/command-queue.js';
import { observeRequest, type ObservedRequest } from './telemetry/server-telemetry.js';

/** Where the dispatcher writes answers: one incoming link. */
export interface ReplySink {
  /** Who is calling, for logs. */
  readonly label: string;
  /** The calling instance, as its handshake proved it. */
  readonly caller: CallContext['caller'];
  inFlight: number;
  send(json: string): void;
}

export interface DispatcherOptions {
  logger: MeshLogger;
  /** Requests one incoming link may have running before new ones get MESH_OVERLOADED. */
  maxInFlight: number;
  /** Opens (lazily, once) the queue of a queued command. */
  queueFor(command: LocalCommand): CommandQueue;
  /** This worker's name, for spans and metrics. */
  worker?: string;
}

/**
 * Runs this worker's commands for requests arriving on incoming links. Only commands the
 * worker declared exist: the lookup is an own-property lookup on a null-prototype table, so
 * `constructor` or `__proto__` are unknown commands, never properties of a provider.
 */
export class Dispatcher {
  private readonly commands: Record<string, LocalCommand> = Object.create(null) as Record<string, LocalCommand>;
  private running = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    commands: readonly LocalCommand[],
    private readonly options: DispatcherOptions,
  ) {
    for (const command of commands) this.commands[command.name] = command;
  }

  /** Requests being run right now, across every link. */
  get inFlight(): number {
    return this.running;
  }

  /** From now on every new request is refused with MESH_PEER_DISCONNECTED, so callers retry elsewhere. */
  startDraining(): void {
    this.draining = true;
  }

  /** Resolves when nothing is running any more. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  handle(sink: ReplySink, message: unknown[]): void {
    const request = readCalleeMessage(message);
    if (!request) return;
    if (request[0] === Msg.PING) return this.reply(sink, encode.pong());
    const id = request[1];
    const head = request[2];
    const payload = request[3];
    // Indexed, not destructured: no array and no iterator per request.
    const name = typeof head === 'string' ? head : head[0];
    const rawMetadata = typeof head === 'string' ? undefined : head[1];
    const traceSlot = typeof head === 'string' ? undefined : head[2];
    const command = lookupOwn(this.commands, name);
    if (!command) {
      return this.fail(sink, id, { code: MeshErrorCode.UNKNOWN_COMMAND, message: `unknown command '${name}'` });
    }
    if (this.draining) {
      return this.fail(sink, id, { code: MeshErrorCode.PEER_DISCONNECTED, message: 'instance is shutting down' });
    }
    if (sink.inFlight >= this.options.maxInFlight) {
      return this.fail(sink, id, {
        code: MeshErrorCode.OVERLOADED,
        message: `${sink.inFlight} requests already running for this caller (maxInFlight ${this.options.maxInFlight})`,
      });
    }
    let metadata: CallContext['metadata'];
    if (rawMetadata === undefined || (rawMetadata === null && traceSlot !== undefined)) {
      metadata = {};
    } else {
      // null stands for "no metadata" only beside a trace slot; on its own it is malformed, as before.
      const decoded = decodeMetadata(rawMetadata);
      if ('problem' in decoded) return this.fail(sink, id, { code: MeshErrorCode.BAD_REQUEST, message: decoded.problem });
      metadata = decoded.metadata;
    }
    const context: CallContext = { caller: sink.caller, metadata };
    const observed = observeRequest(
      this.options.worker ?? '',
      name,
      sink.caller,
      traceSlot,
      command.queued && !command.responds && command.kind !== 'balanced',
    );
    if (command.kind === 'balanced' || command.responds) return this.answer(sink, id, command, payload, context, observed);
    if (command.queued) return this.enqueue(sink, id, command, payload, observed);
    // A plain broadcast: acknowledge receipt, then run; the caller only counts deliveries.
    this.reply(sink, encode.result(id));
    this.run(
      sink,
      () => command.handler(payload, context),
      () => undefined,
      (err) => this.options.logger.error(`broadcast '${name}' from ${sink.label} failed: ${describe(err)}`),
      observed,
    );
  }

  private answer(
    sink: ReplySink,
    id: number,
    command: LocalCommand,
    payload: unknown,
    context: CallContext,
    observed?: ObservedRequest,
  ): void {
    if (observed) {
      return this.run(
        sink,
        () => command.handler(payload, context),
        (value) => this.sendResult(sink, id, command, value),
        (err) => this.fail(sink, id, serializeHandlerError(err)),
        observed,
      );
    }
    // Telemetry off: the handler is called here, and a synchronous result answered at once,
    // without the three closures `run` takes.
    let result: unknown;
    try {
      result = command.handler(payload, context);
    } catch (err) {
      return this.fail(sink, id, serializeHandlerError(err));
    }
    if (!isThenable(result)) return this.sendResult(sink, id, command, result);
    this.settleLater(
      sink,
      result,
      (value) => this.sendResult(sink, id, command, value),
      (err) => this.fail(sink, id, serializeHandlerError(err)),
    );
  }

  private sendResult(sink: ReplySink, id: number, command: LocalCommand, value: unknown): void {
    let json: string | undefined;
    try {
      json = value === undefined ? undefined : JSON.stringify(value);
    } catch (err) {
      return this.fail(sink, id, {
        code: MeshErrorCode.REMOTE_ERROR,
        message: `'${command.name}' returned a value that cannot be serialised: ${describe(err)}`,
        remoteName: 'TypeError',
      });
    }
    this.reply(sink, encode.result(id, json), id);
  }

  private enqueue(sink: ReplySink, id: number, command: LocalCommand, payload: unknown, observed?: ObservedRequest): void {
    let queue: CommandQueue;
    try {
      queue = this.options.queueFor(command);
    } catch (err) {
      observed?.end(true, err);
      return this.fail(sink, id, toSerialized(err, MeshErrorCode.QUEUE_UNAVAILABLE));
    }
    // One id per delivery, unique across the mesh (the link's request id restarts on every link).
    // Not stable across a caller's retries: queued requests are at least once (see CommandQueue.add).
    const requestId = `${sink.label}#${id}#${randomUUID()}`;
    this.run(
      sink,
      () => queue.add(requestId, payload, observed?.job),
      () => this.reply(sink, encode.result(id)),
      (err) => this.fail(sink, id, toSerialized(err, MeshErrorCode.QUEUE_UNAVAILABLE)),
      observed,
    );
  }

  /**
   * Runs a handler and routes its outcome. A synchronous result is answered at once: no
   * promise per call, and a batch of sync requests never counts as "in flight" together.
   */
  private run(
    sink: ReplySink,
    work: () => unknown,
    done: (value: unknown) => void,
    failed: (err: unknown) => void,
    observed?: ObservedRequest,
  ): void {
    if (observed) {
      // Telemetry on: the handler runs in its SERVER span's context, so its own calls are children.
      const [plainWork, plainDone, plainFailed] = [work, done, failed];
      work = () => observed.within(plainWork);
      done = (value) => {
        observed.end(false);
        plainDone(value);
      };
      failed = (err) => {
        observed.end(true, err);
        plainFailed(err);
      };
    }
    let result: unknown;
    try {
      result = work();
    } catch (err) {
      return failed(err);
    }
    if (!isThenable(result)) return done(result);
    this.settleLater(sink, result, done, failed);
  }

  /** A handler's promise: counted in flight (per link and in all) until it settles. */
  private settleLater(
    sink: ReplySink,
    result: PromiseLike<unknown>,
    done: (value: unknown) => void,
    failed: (err: unknown) => void,
  ): void {
    sink.inFlight++;
    this.running++;
    result.then(
      (value) => {
        this.settled(sink);
        done(value);
      },
      (err: unknown) => {
        this.settled(sink);
        failed(err);
      },
    );
  }

  private settled(sink: ReplySink): void {
    sink.inFlight--;
    if (--this.running === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private fail(sink: ReplySink, id: number, error: SerializedMeshError): void {
    this.reply(sink, encode.error(id, error));
  }

  private reply(sink: ReplySink, json: string, id?: number): void {
    try {
      sink.send(json);
    } catch (err) {
      // Too large for a frame: the caller must still hear about it rather than time out.
      if (id !== undefined && err instanceof MeshError && err.code === MeshErrorCode.BAD_REQUEST) {
        this.fail(sink, id, {
          code: MeshErrorCode.REMOTE_ERROR,
          message: `answer not sent: ${err.message}`,
          remoteName: 'MeshError',
        });
        return;
      }
      this.options.logger.debug(`answer to ${sink.label} not sent: ${describe(err)}`);
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
