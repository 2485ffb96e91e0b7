import type { PrivateKeyOption } from '../crypto/mesh-keys.js';
import type { LogLevel, MeshLogger } from '../logger.js';
import type { ManagerHttpAuth } from '../manager-http/http-auth.js';
import type { MeshSchema } from '../schema.js';
import type { MeshTlsOptions } from '../tls/tls-options.js';
import type { RegistryEntry } from './registry.js';

export interface ManagerOptions {
  publicKey: string;
  /** One key, or a list for a rotation (current first). */
  privateKey: PrivateKeyOption;
  /** Socket port workers connect to; undefined or 0 picks a free one (then discover it over HTTP). */
  port?: number;
  /** Bind address; default all interfaces. */
  host?: string;
  /** The whole schema, when the manager should hold workers to it (seed object format). */
  schema?: MeshSchema;
  /**
   * Port of the manager's HTTP server (`GET /socket-mesh/port`, the registry, the topology page):
   * started when `port` is undefined (default 8765, as the seed) or when set explicitly;
   * `false` turns it off (the Nest module serves the routes instead).
   */
  discoveryPort?: number | false;
  /** Protects the registry, topology and event routes with a bearer token. */
  httpAuth?: ManagerHttpAuth;
  logLevel?: LogLevel;
  logger?: MeshLogger;
  /** Handshake must finish within this many ms (default 5000). */
  handshakeTimeout?: number;
  /** Largest frame accepted, bytes (default 1 MiB). */
  maxFrameSize?: number;
  /** Registrations accepted per second per remote address (default 100); more wait in a bounded queue. */
  registrationsPerSecond?: number;
  /** Connections that have not proven the keys yet, at once (default 256); more are closed at once. */
  maxUnauthenticated?: number;
  /** Liveness ping period of worker connections, ms (default 2000). */
  heartbeatInterval?: number;
  /** A worker that misses a ping for this long is dropped, ms (default 2500). */
  heartbeatTimeout?: number;
  /**
   * Identities with TLS (opt-in): workers connect over TLS with a client certificate from `ca`,
   * and may register only under the name their certificate gives. The manager's own certificate
   * must name it `manager` (or the workers' `tls.managerName`).
   */
  tls?: MeshTlsOptions;
}

/**
 * The manager's events. `registered` and `unregistered` carry the instance as
 * `GET /socket-mesh/nodes` lists it; `change` follows either, once the registry is updated.
 * `links`: an instance reported a change of its live peer links (its variant; at most a few
 * per second per instance).
 */
export interface ManagerEvents {
  registered: [entry: RegistryEntry];
  unregistered: [entry: RegistryEntry];
  change: [];
  links: [variant: string];
}
