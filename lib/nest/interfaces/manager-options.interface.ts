import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { PrivateKeyOption } from '../../core/crypto/mesh-keys.js';
import type { MeshSchema } from '../../core/schema.js';
import type { MeshTlsOptions } from '../../core/tls/tls-options.js';

/** Options of `SocketMeshModule.forManager(options)`. */
export interface SocketMeshManagerOptions {
  /** Socket port workers connect to; undefined or 0 picks a free one, which `GET /socket-mesh/port` tells. */
  port?: number | string;
  /** Bind address of the socket port (default all interfaces). */
  host?: string;
  /** Shared by every node of the mesh; a node with other keys cannot connect. */
  publicKey: string;
  /** Shared by every node of the mesh, at least 32 characters; a list (current first) during a key rotation. */
  privateKey: PrivateKeyOption;
  /** The whole schema, when the manager should hold workers to it (seed object format). */
  schema?: MeshSchema;
  /** Handshake must finish within this many ms (default 5000). */
  handshakeTimeout?: number;
  /** Largest frame accepted, bytes (default 1 MiB). */
  maxFrameSize?: number;
  /** Registrations accepted per second per remote address (default 100); more wait in a bounded queue. */
  registrationsPerSecond?: number;
  /**
   * Bearer token for `GET /socket-mesh/nodes`, `/topology` and `/events` (`Authorization: Bearer <token>`).
   * The app's own global guards apply to these routes too.
   */
  httpAuth?: { token: string };
  /** Connections that have not proven the keys yet, at once (default 256); more are closed at once. */
  maxUnauthenticated?: number;
  /** Liveness ping period of worker connections, ms (default 2000). */
  heartbeatInterval?: number;
  /** A worker that misses a ping for this long is dropped, ms (default 2500). */
  heartbeatTimeout?: number;
  /**
   * Identities with TLS (opt-in): workers connect over TLS with a client certificate from `ca`
   * and register only under the name their certificate gives; this certificate must name the
   * manager `manager` (or what the workers set as `tls.managerName`).
   */
  tls?: MeshTlsOptions;
}

/** Implemented by a class given to `forManagerAsync({ useClass })` or `{ useExisting }`. */
export interface SocketMeshManagerOptionsFactory {
  createSocketMeshManagerOptions(): SocketMeshManagerOptions | Promise<SocketMeshManagerOptions>;
}

/** Options of `SocketMeshModule.forManagerAsync(options)`: exactly one of useFactory, useClass, useExisting. */
export interface SocketMeshManagerAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Builds the options; gets the providers listed in `inject`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory?: (...args: any[]) => SocketMeshManagerOptions | Promise<SocketMeshManagerOptions>;
  /** Providers passed to `useFactory`. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** A class implementing `SocketMeshManagerOptionsFactory`, instantiated by this module. */
  useClass?: Type<SocketMeshManagerOptionsFactory>;
  /** An existing provider implementing `SocketMeshManagerOptionsFactory`. */
  useExisting?: Type<SocketMeshManagerOptionsFactory>;
}
