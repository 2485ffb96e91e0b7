import { encodeMetadata, decodeMetadata } from '../../core/call-metadata.js';
import { lookupOwn } from '../../core/command-spec.js';
import { serializeHandlerError } from '../../core/handler-errors.js';
import { MeshError, MeshErrorCode, type MeshOutcome } from '../../core/errors.js';
import type { CallOptions, PeerDescriptor, WaitForOptions } from '../../core/mesh-node.js';
import type { MeshWorkerHost } from '../mesh-worker.host.js';
import { MeshClient } from '../mesh-client.js';
import type { MeshHandlerContext } from '../mesh-handler-context.js';

/** A fake command's function: gets the payload (after a JSON round trip) and the context a real handler would get. */
// `never` lets a fake declare its own payload type: (p: { test: string }) => ... fits.
export type MeshFakeHandler = (payload: never, context: MeshHandlerContext) => unknown;

/** A fake command: a function is balanced; the object form declares a broadcast. */
export type MeshFake = MeshFakeHandler | { handler: MeshFakeHandler; broadcast: true; responds?: boolean; queued?: boolean };

/** Fake workers by name, each a table of fake commands. */
export type MeshFakes = Record<string, Record<string, MeshFake>>;

export interface SocketMeshTestingOptions {
  fakes?: MeshFakes;
  /** Default call timeout (ms), as the worker option; default 10 000. */
  timeout?: number;
}

/** The one instance each fake worker has. */
const fakeVariant = (worker: string): string => `${worker}-fake`;

/**
 * A MeshClient that runs fakes in this process and opens no socket, with the mesh's error
 * semantics: a worker without fakes is not in the connect list (MESH_ACCESS_DENIED), an
 * undeclared command is MESH_UNKNOWN_COMMAND, a fake that throws gives MESH_REMOTE_ERROR (with
 * `status`/`response` of an HttpException), payloads and answers go through JSON.
 */
export class TestingMeshClient extends MeshClient {
  constructor(
    private readonly worker: string,
    private readonly options: SocketMeshTestingOptions = {},
  ) {
    // No host: every member that would use it is overridden here.
    super(undefined as unknown as MeshWorkerHost);
  }

  override async call<T = unknown>(node: string, command: string, payload?: unknown, options: CallOptions = {}): Promise<T> {
    const fakes = this.options.fakes ?? {};
    const table = lookupOwn(fakes, node);
    if (!table) {
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `'${this.worker}' may not call '${node}': no fake for it in SocketMeshTestingModule`,
        { worker: node, command },
      );
    }
    const fake = lookupOwn(table, command);
    if (!fake)
      throw new MeshError(MeshErrorCode.UNKNOWN_COMMAND, `'${node}' has no command '${command}'`, { worker: node, command });
    const metadataJson = encodeMetadata(options.metadata, node, command);
    const decoded = decodeMetadata(metadataJson === undefined ? undefined : JSON.parse(metadataJson));
    const context: MeshHandlerContext = {
      worker: node,
      command,
      kind: typeof fake === 'function' ? 'balanced' : 'broadcast',
      caller: { worker: this.worker, variant: `${this.worker}-testing` },
      metadata: 'metadata' in decoded ? decoded.metadata : {},
    };
    const input = roundTrip(payload, node, command, MeshErrorCode.BAD_REQUEST);
    const handler = typeof fake === 'function' ? fake : fake.handler;
    const variant = fakeVariant(node);
    if (typeof fake !== 'function' && fake.queued) {
      // Acknowledged once stored; the queue runs it later, its outcome goes nowhere.
      setImmediate(
        () =>
          void Promise.resolve()
            .then(() => handler(input as never, context))
            .catch(() => undefined),
      );
      return { queued: 1 } as T;
    }
    const timeout = options.timeout ?? this.options.timeout ?? 10_000;
    let outcome: MeshOutcome;
    try {
      const value = await withTimeout(
        Promise.resolve().then(() => handler(input as never, context)),
        timeout,
        node,
        command,
      );
      outcome = {
        worker: node,
        variant,
        status: 'fulfilled',
        value: roundTrip(value, node, command, MeshErrorCode.REMOTE_ERROR),
      };
    } catch (err) {
      const error = err instanceof MeshError ? err : remoteError(err, node, command, variant);
      if (typeof fake === 'function') throw error;
      outcome = { worker: node, variant, status: 'rejected', error };
    }
    if (typeof fake === 'function') return (outcome as { value: T }).value;
    if (options.settle) return [outcome] as T;
    if (outcome.status === 'rejected') {
      throw new MeshError(
        MeshErrorCode.PARTIAL_FAILURE,
        `1 of 1 instances of '${node}' failed '${command}' (first: ${outcome.error.code} ${outcome.error.message})`,
        {
          worker: node,
          command,
          outcomes: [outcome],
        },
      );
    }
    return (fake.responds ? [outcome.value] : { delivered: 1 }) as T;
  }

  override peers(name?: string): PeerDescriptor[] {
    return Object.keys(this.options.fakes ?? {})
      .filter((worker) => name === undefined || worker === name)
      .map((worker) => ({ worker, variant: fakeVariant(worker), host: 'in-process', port: 0 }));
  }

  override async ready(): Promise<void> {}

  /** A faked worker is there at once, with one instance; asking for more can only time out. */
  override async waitFor(node: string, options?: WaitForOptions): Promise<PeerDescriptor[]> {
    const found = this.peers(node);
    if (found.length === 0) {
      throw new MeshError(MeshErrorCode.ACCESS_DENIED, `'${this.worker}' may not call '${node}': no fakes are given for it`, {
        worker: node,
      });
    }
    const instances = options?.instances ?? 1;
    if (instances > found.length) {
      throw new MeshError(MeshErrorCode.TIMEOUT, `a faked worker has one instance; ${instances} were asked for`, {
        worker: node,
      });
    }
    return found;
  }
}

function roundTrip(value: unknown, worker: string, command: string, code: MeshErrorCode): unknown {
  if (value === undefined) return undefined;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : JSON.parse(json);
  } catch (err) {
    throw new MeshError(code, `not serialisable: ${(err as Error).message}`, { worker, command });
  }
}

function remoteError(err: unknown, worker: string, command: string, variant: string): MeshError {
  const wire = JSON.parse(JSON.stringify(serializeHandlerError(err))) as ReturnType<typeof serializeHandlerError>;
  return new MeshError(wire.code, wire.message, {
    worker,
    command,
    variant,
    remoteName: wire.remoteName,
    status: wire.status,
    response: wire.response,
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, worker: string, command: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MeshError(MeshErrorCode.TIMEOUT, `'${worker}' did not answer '${command}' within ${ms} ms`, { worker, command }),
        ),
      ms,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
