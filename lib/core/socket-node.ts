import type { LocalCommand } from './command-spec.js';
import type { PrivateKeyOption } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { createConsoleLogger, type LogLevel, type MeshLogger } from './logger.js';
import type { ManagerAddress } from './manager-link.js';
import { MeshNode, type CallOptions, type MeshEventPayload, type PeerDescriptor } from './mesh-node.js';
import { formatHost } from './peer-link.js';
import type { QueueBackend } from './queue/command-queue.js';
import { createLazyRedisQueueBackend } from './queue/lazy-redis-queue.js';
import { createMemoryQueueBackend } from './queue/memory-queue.js';
import { suggestName, validateMeshSchema, type MeshSchema } from './schema.js';

/** What `onConnected` receives: this instance, once registered with the manager. */
export interface SocketNodeInfo {
  worker: string;
  variant: string;
}

/** What `onConnection` / `onDisconnection` receive: the peer instance and which way the link goes. */
export interface SocketNodeConnection {
  worker: string;
  variant: string;
  /** 'outgoing': a peer this node calls; 'incoming': a caller of this node. */
  direction?: 'outgoing' | 'incoming';
}

/** Redis connection for queued broadcasts: a `redis://host:port` URL or ioredis-style options. */
export type SocketNodeRedisOptions = string | { host?: string; port?: number; [key: string]: unknown };

/** Options of the plain Node.js worker; the names are the seed's (`socketmesh` 1.1.1). */
export interface SocketNodeOptions {
  /** This node's worker name; must be a key of `schema`. */
  worker: string;
  /** The whole mesh schema, the same object in every node; this node takes its own part. */
  schema: MeshSchema;
  /** Shared by every node of the mesh (names the mesh). */
  publicKey: string;
  /** Shared by every node of the mesh (the secret). */
  /** One key, or a list for a rotation (current first). */
  privateKey: PrivateKeyOption;
  /** Manager host (default '127.0.0.1'). */
  ip?: string;
  /** Manager socket port. Undefined: discover it at `http://ip:discoveryPort/socket-mesh/port`. Ports may be numeric strings (from the environment). */
  port?: number | string;
  /** The manager's discovery port, used when `port` is undefined (default 8765). */
  discoveryPort?: number | string;
  /** This node's own port for peers (default: a free one). */
  meshPort?: number | string;
  /** The address peers dial to reach this node (default: the address the manager sees). */
  hostname?: string;
  /** This instance's id, unique in the mesh; set it to keep it stable across restarts. */
  variant?: string;
  /** Queued broadcasts in Redis when set, in memory otherwise. */
  redis?: SocketNodeRedisOptions;
  /** Console log level (default 'info'). */
  logLevel?: LogLevel;
  /** Use this logger instead of the console one. */
  logger?: MeshLogger;
  /** Default call timeout, ms (default 10 000). */
  timeout?: number;
  /** Largest frame sent or accepted, bytes (default 1 MiB). */
  maxFrameSize?: number;
  /** Handshake deadline for callers dialing in, ms (default 5000). */
  handshakeTimeout?: number;
  /** Requests one caller instance may have running here at once (default 4096). */
  maxInFlight?: number;
  /** Calls this node may have waiting on one peer instance (default 10 000). */
  maxPending?: number;
  /** How long close() lets running requests finish, ms (default 5000). */
  drainTimeout?: number;
  /** Registered with the manager (again after every manager reconnect). */
  onConnected?: (this: SocketNode, info: SocketNodeInfo) => void;
  /** A peer link came up, either direction. */
  onConnection?: (this: SocketNode, connection: SocketNodeConnection) => void;
  /** A peer link went down, either direction. */
  onDisconnection?: (this: SocketNode, connection: SocketNodeConnection) => void;
}

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

const DEFAULT_DISCOVERY_PORT = 8765;
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
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('socket-mesh: SocketNode needs an options object');
    }
    const workers = validateMeshSchema(options.schema);
    const own = typeof options.worker === 'string' ? workers.get(options.worker) : undefined;
    if (!own) {
      const hint = typeof options.worker === 'string' ? suggestName(options.worker, workers.keys()) : undefined;
      throw new MeshError(
        MeshErrorCode.SCHEMA_INVALID,
        `socket-mesh schema: worker ${JSON.stringify(options.worker)} is not defined in the schema` +
          (hint === undefined ? '' : ` (did you mean '${hint}'?)`),
      );
    }
    for (const key of ['onConnected', 'onConnection', 'onDisconnection'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'function') {
        throw new TypeError(`socket-mesh: '${key}' must be a function`);
      }
    }
    this.logger = options.logger ?? createConsoleLogger(own.name, options.logLevel);
    const commands: LocalCommand[] = [];
    for (const name of Object.keys(own.commands)) {
      const { spec, method } = own.commands[name]!;
      commands.push({ ...spec, name, handler: (payload: unknown) => method.call(this, payload) });
    }
    const variant = nameOption('variant', options.variant);
    const hostname = nameOption('hostname', options.hostname);
    const meshPort = portOption('meshPort', options.meshPort, true);
    const manager = managerAddress(options);
    const node = new MeshNode({
      worker: own.name,
      variant,
      manager,
      meshPort,
      advertiseHost: hostname,
      allow: own.allow,
      connect: own.connect,
      commands,
      publicKey: options.publicKey,
      privateKey: options.privateKey,
      logger: this.logger,
      queues: queueBackend(options.redis, this.logger),
      timeout: options.timeout,
      maxFrameSize: options.maxFrameSize,
      handshakeTimeout: options.handshakeTimeout,
      maxInFlight: options.maxInFlight,
      maxPending: options.maxPending,
      drainTimeout: options.drainTimeout,
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
    this.call = callTree((worker, command, payload, callOptions) => node.call(worker, command, payload, callOptions));
    this.forward('connected', options.onConnected);
    this.forward('peer.connected', options.onConnection);
    this.forward('peer.disconnected', options.onDisconnection);
    this.start(START_RETRY_MIN_MS);
  }

  /** Resolves once registered with the manager and the mesh server listens; rejects if the manager refuses this node. */
  ready(): Promise<void> {
    return this.node.ready();
  }

  /** The connected instances this node can call, optionally of one worker name. */
  peers(worker?: string): PeerDescriptor[] {
    return this.node.peers(worker);
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

  /** A user callback must not break the core's event flow: its errors are logged. */
  private forward<P extends MeshEventPayload>(event: string, callback: ((this: SocketNode, payload: P) => void) | undefined): void {
    if (callback === undefined) return;
    this.node.on(event, (payload: P) => {
      try {
        callback.call(this, { ...payload });
      } catch (err) {
        this.logger.error(`${event} callback threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }
}

function managerAddress(options: SocketNodeOptions): ManagerAddress {
  const host = nameOption('ip', options.ip) ?? '127.0.0.1';
  const port = portOption('port', options.port, false);
  if (port !== undefined) return { host, port };
  const discoveryPort = portOption('discoveryPort', options.discoveryPort, false) ?? DEFAULT_DISCOVERY_PORT;
  return { url: `http://${formatHost(host)}:${discoveryPort}` };
}

/** Undefined, or a non-empty string. */
function nameOption(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`socket-mesh: '${key}' must be a non-empty string when set, got ${show(value)}`);
  }
  return value;
}

/**
 * Undefined, or a TCP port. Numeric strings are accepted (ports often come straight from the
 * environment); anything else, NaN from `Number(undefined)` included, is refused here rather
 * than dialed as `http://host:NaN`.
 */
function portOption(key: string, value: unknown, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new TypeError(
      `socket-mesh: '${key}' must be a port number (${allowZero ? 0 : 1}-65535) when set, got ${show(value)}`,
    );
  }
  return port;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function queueBackend(redis: SocketNodeRedisOptions | undefined, logger: MeshLogger): QueueBackend {
  if (redis === undefined || redis === null || redis === '') return createMemoryQueueBackend({ logger });
  return createLazyRedisQueueBackend({ redis, logger });
}

type Invoke = (worker: string, command: string, payload: unknown, options: CallOptions | undefined) => Promise<unknown>;

/**
 * `tree[worker][command].call(payload, options)`. Any name is accepted here (nothing is cached
 * per name, so arbitrary names cost nothing); whether it may be called is the node's decision at call time. Neither level is a thenable (`then` is undefined,
 * so `await node.call.NodeB` does not hang) and symbol keys are undefined (inspection, coercion).
 * The command level is a plain object, not a function: `.call` is its own method.
 */
function callTree(invoke: Invoke): CallTree {
  return new Proxy(Object.create(null) as CallTree, {
    get(_target, worker) {
      if (typeof worker !== 'string' || worker === 'then') return undefined;
      return workerCaller(worker, invoke);
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

function workerCaller(worker: string, invoke: Invoke): WorkerCaller {
  return new Proxy(Object.create(null) as WorkerCaller, {
    get(_target, command) {
      if (typeof command !== 'string' || command === 'then') return undefined;
      return Object.freeze({
        call: <T>(payload?: unknown, options?: CallOptions) => invoke(worker, command, payload, options) as Promise<T>,
      });
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}
