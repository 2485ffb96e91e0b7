import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { CallOptions, PeerDescriptor, WaitForOptions } from '../core/mesh-node.js';
import { MeshWorkerHost } from './mesh-worker.host.js';
import type { MeshContractProxy, WorkerContract } from './worker-contract.js';

/**
 * The caller's view of a worker's commands, from an interface or a class describing them:
 * each method becomes `(payload, options?) => Promise<answer>`. Declare answers as the caller
 * gets them (an array for `responds` broadcasts, `{ queued }` / `{ delivered }` for the others).
 */
export type MeshNodeProxy<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (
        ...args: undefined extends A[0] ? [payload?: A[0], options?: CallOptions] : [payload: A[0], options?: CallOptions]
      ) => Promise<R extends Observable<infer V> ? V : Awaited<R>>
    : never;
};

/** Any command of a worker whose API is not described. */
export type UntypedMeshNode = Record<string, (payload?: unknown, options?: CallOptions) => Promise<unknown>>;

/**
 * Calls other workers of the mesh. Calls made before this worker's node started wait for it
 * (and, inside the node, for the manager's first topology) until their timeout.
 */
@Injectable()
export class MeshClient {
  constructor(private readonly host: MeshWorkerHost) {}

  /**
   * Calls `command` on worker `node`, dispatched by the kind the target declares: balanced →
   * the answer; broadcast + responds → every instance's answer; queued → `{ queued: n }`;
   * plain broadcast → `{ delivered: n }`. Rejects with a MeshError.
   */
  async call<T = unknown>(node: string, command: string, payload?: unknown, options?: CallOptions): Promise<T> {
    const ready = this.host.readyNode();
    if (ready) return (await ready.call(node, command, payload, options)) as T;
    // Not started yet: wait for it, within the call's timeout, which the wait counts against.
    const since = Date.now();
    const timeout = typeof options?.timeout === 'number' && options.timeout > 0 ? options.timeout : this.host.timeout;
    const mesh = await this.host.startedWithin(timeout, { worker: node, command });
    const rest =
      typeof options?.timeout === 'number'
        ? { ...options, timeout: Math.max(1, options.timeout - (Date.now() - since)) }
        : options;
    return (await mesh.call(node, command, payload, rest)) as T;
  }

  /**
   * A proxy whose methods are a worker's commands: `node(NodeB).status(p)` with a contract from
   * `defineWorker` (typed by the command kinds), or `node<NodeBApi>('NodeB').status(p)`; both
   * are `call('NodeB', 'status', p)`. It is not a thenable (`then` is undefined) and has no
   * symbol-keyed members, so it can be awaited, logged or returned from async functions.
   */
  node<W extends WorkerContract>(contract: W): MeshContractProxy<W>;
  node<T extends object = UntypedMeshNode>(name: string): MeshNodeProxy<T>;
  node(target: string | WorkerContract): unknown {
    const name = typeof target === 'string' ? target : target.name;
    const methods = new Map<string, (payload?: unknown, options?: CallOptions) => Promise<unknown>>();
    return new Proxy(Object.create(null) as object, {
      get: (_target, key) => {
        if (typeof key !== 'string' || key === 'then') return undefined;
        let method = methods.get(key);
        if (!method) {
          method = (payload?: unknown, options?: CallOptions) => this.call(name, key, payload, options);
          methods.set(key, method);
        }
        return method;
      },
      has: () => false,
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
      ownKeys: () => [],
      getOwnPropertyDescriptor: () => undefined,
    });
  }

  /** The connected instances this worker can call, of one worker name or all: `{ worker, variant, host, port }[]`. */
  peers(name?: string): PeerDescriptor[] {
    return this.host.node?.peers(name) ?? [];
  }

  /**
   * Resolves with the connected instances of worker `node` once `instances` (default 1) of them
   * are ready to take calls; rejects with MESH_TIMEOUT after `timeout` (default the worker's call
   * timeout), which also counts the wait for this worker's own start.
   */
  async waitFor(node: string, options?: WaitForOptions): Promise<PeerDescriptor[]> {
    const since = Date.now();
    const given = options?.timeout;
    const valid = given === undefined || (typeof given === 'number' && given > 0);
    const timeout = typeof given === 'number' && given > 0 ? given : this.host.timeout;
    const mesh = this.host.readyNode() ?? (await this.host.startedWithin(timeout, { worker: node, command: 'waitFor' }));
    // A bad timeout goes through unchanged: the core refuses it with MESH_BAD_REQUEST.
    return mesh.waitFor(node, valid ? { ...options, timeout: Math.max(1, timeout - (Date.now() - since)) } : options);
  }

  /** Resolves when this worker registered with the manager and its mesh server listens. */
  async ready(): Promise<void> {
    const mesh = await this.host.started();
    await mesh.ready();
  }
}
