import type { ManagerAddress } from '../core/link-address.js';
import type { ManagerOptions } from '../core/manager.js';
import { describeValue } from '../core/names.js';
import { readSharedManagerOptions, SHARED_MANAGER_KEYS } from '../core/options/manager-options.js';
import { invalidOptions, OptionReader } from '../core/options/option-reader.js';
import { readSharedNodeOptions, SHARED_NODE_KEYS, type ResolvedNodeOptions } from '../core/options/node-options.js';
import { validateRights } from '../core/schema.js';
import type { SocketMeshManagerOptions } from './interfaces/manager-options.interface.js';
import type { SocketMeshWorkerOptions } from './interfaces/worker-options.interface.js';
import { MANAGER_LABEL, workerLabel } from './socket-mesh.messages.js';

/*
 * The Nest front's option names, read through the core's shared options layer: the same
 * engine, messages and defaults as the plain API's `new SocketNode(options)`.
 */

/** Worker options after validation, defaults applied: the core's one resolved shape. */
export type ResolvedWorkerOptions = ResolvedNodeOptions;

/** Manager options after validation, ready for the core `Manager` (discovery is served by the Nest app). */
export type ResolvedManagerOptions = Omit<ManagerOptions, 'logger' | 'logLevel'>;

const WORKER_KEYS = [
  ...SHARED_NODE_KEYS,
  'manager',
  'bindHost',
  'advertiseHost',
  'instanceId',
  'allow',
  'connect',
] as const satisfies readonly (keyof SocketMeshWorkerOptions)[];

/** `manager`: one address, or a non-empty list of them (the worker registers with each). */
function managerAddresses(parent: OptionReader): ManagerAddress | ManagerAddress[] {
  const value = parent.raw('manager');
  if (!Array.isArray(value)) return managerAddress(parent.nested('manager'), parent);
  if (value.length === 0) parent.fail('manager', '{ host, port }, { url } or a non-empty array of these');
  return value.map((entry, i) => managerAddress(OptionReader.of(parent.where, entry, `manager[${i}]`), parent));
}

function managerAddress(r: OptionReader | undefined, parent: OptionReader): ManagerAddress {
  if (r === undefined) return parent.missing('manager', '{ host, port } or { url }');
  if (r.has('url')) {
    r.checkKeys(['url']);
    const url = r.requiredString('url');
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:')
      r.fail('url', 'an http(s) URL such as http://manager:3000');
    return { url };
  }
  r.checkKeys(['host', 'port']);
  const host = r.requiredString('host');
  const port = r.port('port', 1);
  if (port === undefined) return r.missing('port', 'the manager socket port, or give { url } instead');
  return { host, port };
}

/** Checks a worker's options and applies the defaults; throws MESH_SCHEMA_INVALID naming the field. */
export function resolveWorkerOptions(worker: string, options: unknown): ResolvedWorkerOptions {
  if (typeof worker !== 'string' || worker.length === 0) {
    throw invalidOptions(
      `socket-mesh: SocketMeshModule.forWorker(name): the worker name must be a non-empty string, got ${describeValue(worker)}`,
    );
  }
  const r = OptionReader.of(workerLabel(worker), options);
  r.checkKeys(WORKER_KEYS);
  const rights = validateRights(worker, { allow: r.raw('allow'), connect: r.raw('connect') });
  const resolved: ResolvedWorkerOptions = {
    worker,
    manager: managerAddresses(r),
    allow: rights.allow,
    connect: rights.connect,
    ...readSharedNodeOptions(r),
  };
  const variant = r.optionalMeshName('instanceId');
  if (variant !== undefined) resolved.variant = variant;
  const bindHost = r.optionalString('bindHost');
  if (bindHost !== undefined) resolved.bindHost = bindHost;
  const advertiseHost = r.optionalString('advertiseHost');
  if (advertiseHost !== undefined) resolved.advertiseHost = advertiseHost;
  return resolved;
}

/**
 * `forWorkerAsync({ useFactory })`: the factory's answer holds the worker's `name` besides the
 * options. Resolved once per provider that asks (name, options): cheap, and both see the same checks.
 */
export function resolveNamedWorkerOptions(where: string, named: unknown): ResolvedWorkerOptions {
  if (typeof named !== 'object' || named === null || Array.isArray(named)) {
    throw invalidOptions(
      `socket-mesh: ${where}: the factory must return an object with the worker's name and options, got ${describeValue(named)}`,
    );
  }
  const { name, ...options } = named as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidOptions(
      `socket-mesh: ${where}: the factory must return the worker's 'name' (a non-empty string), got ${describeValue(name)}`,
    );
  }
  return resolveWorkerOptions(name, options);
}

/** Checks a manager's options; throws MESH_SCHEMA_INVALID naming the field (the schema itself is checked by the core). */
export function resolveManagerOptions(options: unknown): ResolvedManagerOptions {
  const r = OptionReader.of(MANAGER_LABEL, options);
  r.checkKeys(SHARED_MANAGER_KEYS satisfies readonly (keyof SocketMeshManagerOptions)[]);
  // The Nest app serves GET /socket-mesh/port on its own HTTP server.
  return { ...readSharedManagerOptions(r), discoveryPort: false };
}
