import type { Provider } from '@nestjs/common';
import { MeshError, MeshErrorCode } from '../core/errors.js';
import type { ManagerAddress } from '../core/manager-link.js';
import type { ManagerOptions } from '../core/manager.js';
import { validateHttpAuth } from '../core/manager-http/http-auth.js';
import { suggestName, validateRights } from '../core/schema.js';
import type {
  SocketMeshManagerAsyncOptions,
  SocketMeshManagerOptions,
  SocketMeshManagerOptionsFactory,
} from './interfaces/manager-options.interface.js';
import type {
  SocketMeshQueueOptions,
  SocketMeshWorkerAsyncOptions,
  SocketMeshWorkerOptions,
  SocketMeshWorkerOptionsFactory,
} from './interfaces/worker-options.interface.js';
import {
  asyncOptionsMessage,
  describeValue,
  invalidOptionMessage,
  MANAGER_LABEL,
  missingOptionMessage,
  unknownOptionMessage,
  workerLabel,
} from './socket-mesh.messages.js';
import {
  SOCKET_MESH_MANAGER_OPTIONS,
  SOCKET_MESH_RAW_MANAGER_OPTIONS,
  SOCKET_MESH_RAW_WORKER_OPTIONS,
  SOCKET_MESH_WORKER_NAME,
  SOCKET_MESH_WORKER_OPTIONS,
} from './socket-mesh.constants.js';

export const DEFAULT_CALL_TIMEOUT = 10_000;

/** Worker options after validation, defaults applied: what the worker host builds the node from. */
export interface ResolvedWorkerOptions {
  worker: string;
  manager: ManagerAddress;
  meshPort?: number;
  bindHost?: string;
  advertiseHost?: string;
  instanceId?: string;
  allow: string[] | 'anyNode';
  connect: string[];
  publicKey: string;
  privateKey: string;
  redis?: SocketMeshWorkerOptions['redis'];
  queue: SocketMeshQueueOptions;
  timeout: number;
  maxFrameSize?: number;
  handshakeTimeout?: number;
  maxInFlight?: number;
  maxPending?: number;
  drainTimeout?: number;
}

/** Manager options after validation, ready for the core `Manager` (discovery is served by the Nest app). */
export type ResolvedManagerOptions = Omit<ManagerOptions, 'logger' | 'logLevel'>;

const WORKER_KEYS = [
  'manager',
  'meshPort',
  'bindHost',
  'advertiseHost',
  'instanceId',
  'allow',
  'connect',
  'publicKey',
  'privateKey',
  'redis',
  'queue',
  'timeout',
  'maxFrameSize',
  'handshakeTimeout',
  'maxInFlight',
  'maxPending',
  'drainTimeout',
] as const satisfies readonly (keyof SocketMeshWorkerOptions)[];

const MANAGER_KEYS = [
  'port',
  'host',
  'publicKey',
  'privateKey',
  'schema',
  'handshakeTimeout',
  'maxFrameSize',
  'registrationsPerSecond',
  'httpAuth',
] as const satisfies readonly (keyof SocketMeshManagerOptions)[];

const QUEUE_KEYS = ['maxPending', 'attempts', 'backoff'] as const satisfies readonly (keyof SocketMeshQueueOptions)[];

/** Reads and checks one options object; every message names the module call and the field. */
class OptionReader {
  constructor(
    private readonly where: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  static of(where: string, value: unknown, field?: string): OptionReader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const message = field
        ? invalidOptionMessage(where, field, 'an object', describeValue(value))
        : `socket-mesh: ${where}: options must be an object, got ${describeValue(value)}`;
      throw invalid(message);
    }
    return new OptionReader(where, value as Record<string, unknown>, field ? `${field}.` : '');
  }

  checkKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) throw invalid(unknownOptionMessage(this.where, this.prefix + key, suggestName(key, allowed)));
    }
  }

  raw(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.obj, key) ? this.obj[key] : undefined;
  }

  fail(key: string, expected: string): never {
    throw invalid(invalidOptionMessage(this.where, this.prefix + key, expected, describeValue(this.raw(key))));
  }

  requiredString(key: string): string {
    const value = this.raw(key);
    if (value === undefined) throw invalid(missingOptionMessage(this.where, this.prefix + key, 'a non-empty string'));
    if (typeof value !== 'string' || value.length === 0) this.fail(key, 'a non-empty string');
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0) this.fail(key, 'a non-empty string');
    return value;
  }

  /** `integer`: whole numbers only; `min`: the smallest value accepted. */
  number(key: string, kind: { integer?: boolean; min: number; max?: number; exclusiveMin?: boolean }): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!kind.integer || Number.isInteger(value)) &&
      (kind.exclusiveMin ? value > kind.min : value >= kind.min) &&
      (kind.max === undefined || value <= kind.max);
    if (!ok) {
      const what = kind.integer ? 'an integer' : 'a finite number';
      const range =
        kind.max !== undefined ? ` from ${kind.min} to ${kind.max}` : kind.exclusiveMin ? ` greater than ${kind.min}` : ` of at least ${kind.min}`;
      this.fail(key, what + range);
    }
    return value as number;
  }

  port(key: string, min = 0): number | undefined {
    return this.number(key, { integer: true, min, max: 65535 });
  }

  positive(key: string, integer = false): number | undefined {
    return this.number(key, { integer, min: 0, exclusiveMin: true });
  }
}

function invalid(message: string): MeshError {
  return new MeshError(MeshErrorCode.SCHEMA_INVALID, message);
}

function managerAddress(where: string, value: unknown): ManagerAddress {
  if (value === undefined) throw invalid(missingOptionMessage(where, 'manager', '{ host, port } or { url }'));
  const r = OptionReader.of(where, value, 'manager');
  if (r.raw('url') !== undefined) {
    r.checkKeys(['url']);
    const url = r.requiredString('url');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return r.fail('url', 'an http(s) URL such as http://manager:3000');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') r.fail('url', 'an http(s) URL such as http://manager:3000');
    return { url };
  }
  r.checkKeys(['host', 'port']);
  const host = r.requiredString('host');
  const port = r.raw('port') === undefined ? undefined : r.port('port', 1);
  if (port === undefined) throw invalid(missingOptionMessage(where, 'manager.port', 'the manager socket port, or give { url } instead'));
  return { host, port };
}

function queueOptions(where: string, value: unknown): SocketMeshQueueOptions {
  if (value === undefined) return {};
  const r = OptionReader.of(where, value, 'queue');
  r.checkKeys(QUEUE_KEYS);
  const out: SocketMeshQueueOptions = {};
  const maxPending = r.positive('maxPending', true);
  if (maxPending !== undefined) out.maxPending = maxPending;
  const attempts = r.positive('attempts', true);
  if (attempts !== undefined) out.attempts = attempts;
  const backoff = r.number('backoff', { min: 0 });
  if (backoff !== undefined) out.backoff = backoff;
  return out;
}

/** Checks a worker's options and applies the defaults; throws MESH_SCHEMA_INVALID naming the field. */
export function resolveWorkerOptions(worker: string, options: unknown): ResolvedWorkerOptions {
  if (typeof worker !== 'string' || worker.length === 0) {
    throw invalid(`socket-mesh: SocketMeshModule.forWorker(name): the worker name must be a non-empty string, got ${describeValue(worker)}`);
  }
  const where = workerLabel(worker);
  const r = OptionReader.of(where, options);
  r.checkKeys(WORKER_KEYS);
  const rights = validateRights(worker, { allow: r.raw('allow'), connect: r.raw('connect') });
  const redis = r.raw('redis');
  if (redis !== undefined && !(typeof redis === 'string' && redis.length > 0) && !(typeof redis === 'object' && redis !== null && !Array.isArray(redis))) {
    r.fail('redis', 'a redis:// URL or ioredis options { host, port, … }');
  }
  const resolved: ResolvedWorkerOptions = {
    worker,
    manager: managerAddress(where, r.raw('manager')),
    allow: rights.allow,
    connect: rights.connect,
    publicKey: r.requiredString('publicKey'),
    privateKey: r.requiredString('privateKey'),
    queue: queueOptions(where, r.raw('queue')),
    timeout: r.positive('timeout') ?? DEFAULT_CALL_TIMEOUT,
  };
  const optional = {
    meshPort: r.port('meshPort'),
    bindHost: r.optionalString('bindHost'),
    advertiseHost: r.optionalString('advertiseHost'),
    instanceId: r.optionalString('instanceId'),
    redis: redis as ResolvedWorkerOptions['redis'],
    maxFrameSize: r.positive('maxFrameSize', true),
    handshakeTimeout: r.positive('handshakeTimeout'),
    maxInFlight: r.positive('maxInFlight', true),
    maxPending: r.positive('maxPending', true),
    drainTimeout: r.number('drainTimeout', { min: 0 }),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

/** Checks a manager's options; throws MESH_SCHEMA_INVALID naming the field (the schema itself is checked by the core). */
export function resolveManagerOptions(options: unknown): ResolvedManagerOptions {
  const r = OptionReader.of(MANAGER_LABEL, options);
  r.checkKeys(MANAGER_KEYS);
  const resolved: ResolvedManagerOptions = {
    publicKey: r.requiredString('publicKey'),
    privateKey: r.requiredString('privateKey'),
    // The Nest app serves GET /socket-mesh/port on its own HTTP server.
    discoveryPort: false,
  };
  const optional = {
    port: r.port('port'),
    host: r.optionalString('host'),
    schema: r.raw('schema') as ResolvedManagerOptions['schema'],
    handshakeTimeout: r.positive('handshakeTimeout'),
    maxFrameSize: r.positive('maxFrameSize', true),
    registrationsPerSecond: r.positive('registrationsPerSecond'),
    httpAuth: validateHttpAuth(r.raw('httpAuth'), MANAGER_LABEL),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

const resolvedWorkerOptionsProvider: Provider = {
  provide: SOCKET_MESH_WORKER_OPTIONS,
  useFactory: (worker: string, options: unknown) => resolveWorkerOptions(worker, options),
  inject: [SOCKET_MESH_WORKER_NAME, SOCKET_MESH_RAW_WORKER_OPTIONS],
};

const resolvedManagerOptionsProvider: Provider = {
  provide: SOCKET_MESH_MANAGER_OPTIONS,
  useFactory: (options: unknown) => resolveManagerOptions(options),
  inject: [SOCKET_MESH_RAW_MANAGER_OPTIONS],
};

export function createWorkerProviders(worker: string, options: SocketMeshWorkerOptions): Provider[] {
  return [
    { provide: SOCKET_MESH_WORKER_NAME, useValue: worker },
    { provide: SOCKET_MESH_RAW_WORKER_OPTIONS, useValue: options },
    resolvedWorkerOptionsProvider,
  ];
}

export function createWorkerAsyncProviders(worker: string, options: SocketMeshWorkerAsyncOptions): Provider[] {
  const where = workerLabel(worker);
  return [
    { provide: SOCKET_MESH_WORKER_NAME, useValue: worker },
    ...asyncOptionsProviders(where, SOCKET_MESH_RAW_WORKER_OPTIONS, options, (f: SocketMeshWorkerOptionsFactory) =>
      f.createSocketMeshOptions(),
    ),
    resolvedWorkerOptionsProvider,
  ];
}

export function createManagerProviders(options: SocketMeshManagerOptions): Provider[] {
  return [{ provide: SOCKET_MESH_RAW_MANAGER_OPTIONS, useValue: options }, resolvedManagerOptionsProvider];
}

export function createManagerAsyncProviders(options: SocketMeshManagerAsyncOptions): Provider[] {
  return [
    ...asyncOptionsProviders(MANAGER_LABEL, SOCKET_MESH_RAW_MANAGER_OPTIONS, options, (f: SocketMeshManagerOptionsFactory) =>
      f.createSocketMeshManagerOptions(),
    ),
    resolvedManagerOptionsProvider,
  ];
}

function asyncOptionsProviders<F>(
  where: string,
  token: symbol,
  options: SocketMeshWorkerAsyncOptions | SocketMeshManagerAsyncOptions,
  create: (factory: F) => unknown,
): Provider[] {
  const given = [options?.useFactory, options?.useClass, options?.useExisting].filter((x) => x !== undefined);
  if (given.length !== 1) throw invalid(asyncOptionsMessage(where));
  if (options.useFactory) {
    return [{ provide: token, useFactory: options.useFactory, inject: options.inject ?? [] }];
  }
  const factoryClass = (options.useClass ?? options.useExisting)!;
  const providers: Provider[] = [{ provide: token, useFactory: (factory: F) => create(factory), inject: [factoryClass] }];
  if (options.useClass) providers.push({ provide: options.useClass, useClass: options.useClass });
  return providers;
}
