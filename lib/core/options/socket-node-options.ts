import type { PrivateKeyOption } from '../crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../errors.js';
import type { LogLevel, MeshLogger } from '../logger.js';
import type { ManagerAddress } from '../link-address.js';
import { didYouMean } from '../names.js';
import { formatHost } from '../link-address.js';
import { validateMeshSchema, type MeshSchema, type NormalizedWorker } from '../schema.js';
import type { SocketNode } from '../socket-node.js';
import { DEFAULTS } from './defaults.js';
import { readLogging } from './logging-options.js';
import {
  readSharedNodeOptions,
  SHARED_NODE_KEYS,
  type NodeTlsOption,
  type NodeTuningOptions,
  type QueueOptions,
  type ResolvedNodeOptions,
} from './node-options.js';
import { OptionReader } from './option-reader.js';

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

/** One manager of `managers`: its host, and its socket port or (absent) its discovery port. */
export interface SocketNodeManager {
  ip?: string;
  port?: number | string;
  discoveryPort?: number | string;
}

/** Redis connection for queued broadcasts: a `redis://host:port` URL or ioredis-style options. */
export type SocketNodeRedisOptions = string | { host?: string; port?: number; [key: string]: unknown };

/** A callback may be async: a throw or a rejection is logged with its stack, never fatal. */
type Callback<P> = (this: SocketNode, payload: P) => unknown;

/** Options of the plain Node.js worker; the names are the seed's (`socketmesh` 1.1.1). */
export interface SocketNodeOptions extends NodeTuningOptions, NodeTlsOption {
  /** This node's worker name; must be a key of `schema`. */
  worker: string;
  /** The whole mesh schema; this node takes its own part (other workers' commands may be `null`). */
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
  /**
   * Several managers instead of `ip`/`port`/`discoveryPort`: the node registers with every one
   * and merges what they list, so one manager down changes nothing. Each entry is spelt like the
   * single manager's options.
   */
  managers?: SocketNodeManager[];
  /** Address the mesh server binds to (default all interfaces), e.g. '127.0.0.1' or one interface's address. */
  bindHost?: string;
  /** This node's own port for peers (default: a free one). */
  meshPort?: number | string;
  /** The address peers dial to reach this node (default: the address the manager sees). */
  hostname?: string;
  /** This instance's id, unique in the mesh; set it to keep it stable across restarts. */
  variant?: string;
  /** Queued broadcasts in Redis when set, in memory otherwise. */
  redis?: SocketNodeRedisOptions;
  /** Queue settings for queued broadcasts (the Nest module's `queue` option). */
  queue?: QueueOptions;
  /** Console log level (default 'info'). */
  logLevel?: LogLevel;
  /** Use this logger instead of the console one. */
  logger?: MeshLogger;
  /** Registered with the manager (again after every manager reconnect). */
  onConnected?: Callback<SocketNodeInfo>;
  /** A peer link came up, either direction. */
  onConnection?: Callback<SocketNodeConnection>;
  /** A peer link went down, either direction. */
  onDisconnection?: Callback<SocketNodeConnection>;
}

const SOCKET_NODE_KEYS = [
  ...SHARED_NODE_KEYS,
  'worker',
  'schema',
  'ip',
  'port',
  'discoveryPort',
  'managers',
  'bindHost',
  'hostname',
  'variant',
  'logLevel',
  'logger',
  'onConnected',
  'onConnection',
  'onDisconnection',
] as const satisfies readonly (keyof SocketNodeOptions)[];

/** `new SocketNode(options)` checked, in the core's resolved shape plus what only the plain API has. */
export interface ResolvedSocketNodeOptions {
  node: ResolvedNodeOptions;
  /** This node's part of the schema (its methods). */
  own: NormalizedWorker;
  /** Every worker the schema defines. */
  workers: Map<string, NormalizedWorker>;
  logLevel: LogLevel;
  logger?: MeshLogger;
  onConnected?: Callback<SocketNodeInfo>;
  onConnection?: Callback<SocketNodeConnection>;
  onDisconnection?: Callback<SocketNodeConnection>;
}

/** Checks the plain API's options; throws MESH_SCHEMA_INVALID naming the field. */
export function resolveSocketNodeOptions(options: unknown): ResolvedSocketNodeOptions {
  const worker = typeof options === 'object' && options !== null ? (options as { worker?: unknown }).worker : undefined;
  const r = OptionReader.of(typeof worker === 'string' ? `new SocketNode('${worker}')` : 'new SocketNode()', options);
  r.checkKeys(SOCKET_NODE_KEYS);
  const workers = validateMeshSchema(r.raw('schema'), { runs: typeof worker === 'string' ? worker : null });
  const own = typeof worker === 'string' ? workers.get(worker) : undefined;
  if (!own) {
    throw new MeshError(
      MeshErrorCode.SCHEMA_INVALID,
      `socket-mesh schema: worker ${JSON.stringify(worker)} is not defined in the schema` +
        (typeof worker === 'string' ? didYouMean(worker, workers.keys()) : ''),
    );
  }
  const node: ResolvedNodeOptions = {
    worker: own.name,
    manager: managerAddresses(r),
    allow: own.allow,
    connect: own.connect,
    ...readSharedNodeOptions(r),
  };
  const variant = r.optionalMeshName('variant');
  if (variant !== undefined) node.variant = variant;
  const bindHost = r.optionalString('bindHost');
  if (bindHost !== undefined) node.bindHost = bindHost;
  const hostname = r.optionalString('hostname');
  if (hostname !== undefined) node.advertiseHost = hostname;
  const resolved: ResolvedSocketNodeOptions = { node, own, workers, ...readLogging(r) };
  const onConnected = r.optionalFunction<Callback<SocketNodeInfo>>('onConnected');
  if (onConnected !== undefined) resolved.onConnected = onConnected;
  const onConnection = r.optionalFunction<Callback<SocketNodeConnection>>('onConnection');
  if (onConnection !== undefined) resolved.onConnection = onConnection;
  const onDisconnection = r.optionalFunction<Callback<SocketNodeConnection>>('onDisconnection');
  if (onDisconnection !== undefined) resolved.onDisconnection = onDisconnection;
  return resolved;
}

/** `managers`, else the one manager of `ip`/`port`/`discoveryPort`. */
function managerAddresses(r: OptionReader): ManagerAddress | ManagerAddress[] {
  const list = r.raw('managers');
  if (list === undefined) return managerAddress(r);
  if (!Array.isArray(list) || list.length === 0) r.fail('managers', 'a non-empty array of { ip, port } or { ip, discoveryPort }');
  for (const key of ['ip', 'port', 'discoveryPort']) {
    if (r.has(key)) r.fail(key, `absent when 'managers' is given (put it in a managers entry)`);
  }
  return (list as unknown[]).map((entry, i) => {
    const e = OptionReader.of(r.where, entry, `managers[${i}]`);
    e.checkKeys(['ip', 'port', 'discoveryPort']);
    return managerAddress(e);
  });
}

/** `port` given: dial it. Else discover it at `http://ip:discoveryPort/socket-mesh/port`. */
function managerAddress(r: OptionReader): ManagerAddress {
  const host = r.optionalString('ip') ?? DEFAULTS.managerHost;
  const port = r.port('port', 1);
  if (port !== undefined) return { host, port };
  const discoveryPort = r.port('discoveryPort', 1) ?? DEFAULTS.discoveryPort;
  return { url: `http://${formatHost(host)}:${discoveryPort}` };
}
