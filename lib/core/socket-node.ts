import type { CallContext } from './call-metadata.js';
import type { LocalCommand } from './command-spec.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { handlerContext } from './handler-context.js';
import { createConsoleLogger, type MeshLogger } from './logger.js';
import { MeshNode, type MeshEventPayload, type PeerDescriptor, type WaitForOptions } from './mesh-node.js';
import type { CallOptions } from './options/call-options.js';
import { createQueueBackend } from './options/queue-backend.js';
import { resolveSocketNodeOptions, type SocketNodeOptions } from './options/socket-node-options.js';
import { callSafely, logCallbackFailure } from './safe-callback.js';
import type { NormalizedWorker } from './schema.js';

export type {
  SocketNodeConnection,
  SocketNodeInfo,
  SocketNodeOptions,
  SocketNodeRedisOptions,
} from './options/socket-node-options.js';

/** `node.call.NodeB.status.call(payload, options?)`. */
export interface CommandCaller {
  call<T = unknown>(payload?: unknown, options?: CallOptions): Promise<T>;
}

/** The commands of one worker name, by name. */
export type WorkerCaller = { readonly [command: string]: CommandCaller };

/** Every worker name, by name: `node.call[worker][command].call(payload, options?)`. */
export type CallTree = { readonly [worker: string]: WorkerCaller };

/** The node's own server, as the seed exposed it. */
export interface SocketNodeServer {
  /** True once peers can connect. */
  readonly listening: boolean;
  /** The port peers dial (0 until listening). */
  readonly port: number;
}

const START_RETRY_MIN_MS = 500;
const START_RETRY_MAX_MS = 10_000;

/**
 * A worker of the plain Node.js API: a thin shell over the core's MeshNode with the seed's
 * option names and call syntax. It starts in its constructor; start-up failures after that
 * (manager away, port taken) are logged and retried, never thrown.
 */
export class SocketNode {
  readonly worker: string;
  readonly variant: string;
  readonly meshServer: SocketNodeServer;
  readonly call: CallTree;
  private readonly node: MeshNode;
  private readonly logger: MeshLogger;
  private startTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: SocketNodeOptions) {
    const resolved = resolveSocketNodeOptions(options);
    const { own } = resolved;
    this.logger = resolved.logger ?? createConsoleLogger(own.name, resolved.logLevel);
    const commands: LocalCommand[] = [];
    for (const name of Object.keys(own.commands)) {
      const { spec, method } = own.commands[name]!;
      // validateMeshSchema refuses a null method in the worker this process runs.
      const handler = (payload: unknown, call?: CallContext) =>
        method!.call(this, payload, handlerContext(own.name, name, spec.kind, call));
      commands.push({ ...spec, name, handler });
    }
    const o = resolved.node;
    const node = new MeshNode({
      ...o,
      commands,
      logger: this.logger,
      queues: createQueueBackend({ redis: o.redis, queue: o.queue, logger: this.logger }),
    });
    this.node = node;
    this.worker = node.worker;
    this.variant = node.variant;
    this.meshServer = {
      get listening() {
        return node.listening;
      },
      get port() {
        return node.server.port;
      },
    };
    this.call = callTree(own, resolved.workers, (worker, command, payload, callOptions) => {
      if (!own.connect.includes(worker) && resolved.workers.has(worker)) {
        // A defined worker outside the connect list is no typo: no near-miss hint for it.
        return Promise.reject(
          new MeshError(
            MeshErrorCode.ACCESS_DENIED,
            `'${own.name}' may not call '${worker}': it is not in this worker's connect list`,
            {
              worker,
              command,
            },
          ),
        );
      }
      return node.call(worker, command, payload, callOptions);
    });
    this.forward('connected', 'onConnected', resolved.onConnected);
    this.forward('peer.connected', 'onConnection', resolved.onConnection);
    this.forward('peer.disconnected', 'onDisconnection', resolved.onDisconnection);
    this.start(START_RETRY_MIN_MS);
  }

  /** Resolves once registered with the manager and the mesh server listens; rejects if the manager refuses this node. */
  ready(): Promise<void> {
    return this.node.ready();
  }

  /** Registered with the manager right now; calls to connected peers go on without it. */
  get managerConnected(): boolean {
    return this.node.managerConnected;
  }

  /** The connected instances this node can call, optionally of one worker name. */
  peers(worker?: string): PeerDescriptor[] {
    return this.node.peers(worker);
  }

  /** Resolves with the connected instances of `worker` once `instances` (default 1) are; rejects with MESH_TIMEOUT after `timeout`. */
  waitFor(worker: string, options?: WaitForOptions): Promise<PeerDescriptor[]> {
    return this.node.waitFor(worker, options);
  }

  /** Stops taking requests, lets running ones finish (up to `drainTimeout`), releases every socket, server, timer and queue. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
    return this.node.close();
  }

  private start(retryDelay: number): void {
    this.node.start().catch((err: Error) => {
      if (this.closed) return;
      this.logger.error(`could not start (${err.message}); retrying in ${retryDelay} ms`);
      this.startTimer = setTimeout(() => {
        this.startTimer = undefined;
        if (!this.closed) this.start(Math.min(retryDelay * 2, START_RETRY_MAX_MS));
      }, retryDelay);
    });
  }

  /** A user callback, sync or async, must not break the core's event flow nor end the process: its errors are logged. */
  private forward<P extends MeshEventPayload>(
    event: string,
    option: string,
    callback: ((this: SocketNode, payload: P) => unknown) | undefined,
  ): void {
    if (callback === undefined) return;
    const failed = logCallbackFailure(this.logger, `${option} callback`);
    this.node.on(event, (payload: P) => callSafely(() => callback.call(this, { ...payload }), failed));
  }
}

type Invoke = (worker: string, command: string, payload: unknown, options: CallOptions | undefined) => Promise<unknown>;

/**
 * `tree[worker][command].call(payload, options)`. Listing it (`Object.keys`, `in`) shows the
 * workers this node may call and, one level down, their commands as the schema declares them;
 * reading any name still gives a caller (nothing is cached per name), and whether it may be
 * called is the node's decision at call time. Neither level is a thenable (`then` is
 * undefined, so `await node.call.NodeB` does not hang), symbol keys are undefined (inspection,
 * coercion), and both are read-only. The command level is a plain object: `.call` is its own method.
 */
function callTree(own: NormalizedWorker, workers: Map<string, NormalizedWorker>, invoke: Invoke): CallTree {
  const callable = own.connect;
  const commandsOf = (worker: string): string[] => Object.keys(workers.get(worker)?.commands ?? {});
  return readOnlyTree(callable, (worker) => {
    const commands = commandsOf(worker);
    return readOnlyTree(commands, (command) =>
      Object.freeze({
        call: <T>(payload?: unknown, options?: CallOptions) => invoke(worker, command, payload, options) as Promise<T>,
      }),
    );
  }) as CallTree;
}

function readOnlyTree<V>(listed: readonly string[], child: (name: string) => V): { readonly [name: string]: V } {
  const names = new Set(listed);
  return new Proxy(Object.create(null) as { readonly [name: string]: V }, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return child(name);
    },
    has: (_target, name) => typeof name === 'string' && names.has(name),
    ownKeys: () => [...names],
    getOwnPropertyDescriptor(_target, name) {
      if (typeof name !== 'string' || !names.has(name)) return undefined;
      return { value: child(name), enumerable: true, configurable: true, writable: false };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}
