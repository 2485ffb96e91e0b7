import type { ManagerOptions } from '../manager.js';
import { validateHttpAuth } from '../manager-http/http-auth.js';
import { readTlsOptions } from '../tls/tls-options.js';
import { DEFAULTS } from './defaults.js';
import { readLogging } from './logging-options.js';
import { OptionReader } from './option-reader.js';

/** The manager options both fronts spell alike. */
export const SHARED_MANAGER_KEYS = [
  'port',
  'host',
  'publicKey',
  'privateKey',
  'schema',
  'handshakeTimeout',
  'maxFrameSize',
  'registrationsPerSecond',
  'httpAuth',
  'maxUnauthenticated',
  'heartbeatInterval',
  'heartbeatTimeout',
  'tls',
] as const satisfies readonly (keyof ManagerOptions)[];

type SharedManagerOptions = Pick<ManagerOptions, (typeof SHARED_MANAGER_KEYS)[number]>;

/** Reads SHARED_MANAGER_KEYS, defaults applied; `port` stays undefined when not given (discovery decides on it). */
export function readSharedManagerOptions(r: OptionReader): SharedManagerOptions {
  const shared: SharedManagerOptions = {
    publicKey: r.requiredString('publicKey'),
    privateKey: r.privateKey(),
    handshakeTimeout: r.positive('handshakeTimeout') ?? DEFAULTS.handshakeTimeout,
    maxFrameSize: r.positive('maxFrameSize', true) ?? DEFAULTS.maxFrameSize,
    registrationsPerSecond: r.positive('registrationsPerSecond') ?? DEFAULTS.registrationsPerSecond,
    maxUnauthenticated: r.positive('maxUnauthenticated', true) ?? DEFAULTS.maxUnauthenticated,
    heartbeatInterval: r.positive('heartbeatInterval', true) ?? DEFAULTS.heartbeatInterval,
    heartbeatTimeout: r.positive('heartbeatTimeout', true) ?? DEFAULTS.heartbeatTimeout,
  };
  const port = r.port('port');
  if (port !== undefined) shared.port = port;
  const host = r.optionalString('host');
  if (host !== undefined) shared.host = host;
  // The schema itself is checked by the Manager (validateMeshSchema).
  if (r.has('schema')) shared.schema = r.raw('schema') as ManagerOptions['schema'];
  const httpAuth = validateHttpAuth(r.raw('httpAuth'), `socket-mesh: ${r.where}`);
  if (httpAuth !== undefined) shared.httpAuth = httpAuth;
  const tls = readTlsOptions(r);
  if (tls !== undefined) shared.tls = tls;
  return shared;
}

/** `new Manager(options)` checked, defaults applied; throws MESH_SCHEMA_INVALID naming the field. */
export function resolveManagerOptions(options: unknown): ManagerOptions {
  const r = OptionReader.of('new Manager()', options);
  r.checkKeys([...SHARED_MANAGER_KEYS, 'discoveryPort', 'logLevel', 'logger']);
  const resolved: ManagerOptions = {
    ...readSharedManagerOptions(r),
    ...readLogging(r),
    // Left undefined when not given: the manager starts its HTTP server for an explicit port even when `port` is set.
    discoveryPort: r.raw('discoveryPort') === false ? false : r.port('discoveryPort'),
  };
  return resolved;
}
