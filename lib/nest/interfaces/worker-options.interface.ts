import type { PrivateKeyOption } from '../../core/crypto/mesh-keys.js';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import type { NodeTlsOption, NodeTuningOptions, QueueOptions } from '../../core/options/node-options.js';

/** Where the manager is: its socket port, or its Nest app's HTTP address (the port is then discovered). */
export type SocketMeshManagerAddress =
  | {
      /** Host name or address of the manager. */
      host: string;
      /** The manager's socket port (a numeric string, from the environment, is accepted). */
      port: number | string;
    }
  | {
      /** Base URL of the manager's Nest app (`http://host:httpPort`); the socket port is read from `GET /socket-mesh/port`. */
      url: string;
    };

/** Queue settings for `@Broadcast({ queued: true })` commands: the core's, shared with the plain API. */
export type SocketMeshQueueOptions = QueueOptions;

/** Options of `SocketMeshModule.forWorker(name, options)`. */
export interface SocketMeshWorkerOptions extends NodeTuningOptions, NodeTlsOption {
  /** The manager to register with, or several: the worker registers with each and merges what they list. */
  manager: SocketMeshManagerAddress | readonly SocketMeshManagerAddress[];
  /** This instance's own port for peers; 0 or undefined picks a free one (a numeric string is accepted). */
  meshPort?: number | string;
  /** Address the mesh server binds to (default all interfaces). */
  bindHost?: string;
  /** The address peers dial (a pod IP, say); default the address the manager sees. */
  advertiseHost?: string;
  /** This instance's variant id, unique in the mesh; set it to keep the variant across restarts. Default: random. */
  instanceId?: string;
  /** Worker names that may call this worker, or `'anyNode'` (default none). */
  allow?: readonly string[] | 'anyNode';
  /** Worker names this worker calls (default none). */
  connect?: readonly string[];
  /** Shared by every node of the mesh; a node with other keys cannot connect. */
  publicKey: string;
  /** Shared by every node of the mesh; a node with other keys cannot connect. */
  /** One key, or a list for a rotation (current first). */
  privateKey: PrivateKeyOption;
  /**
   * Keep queued broadcasts in Redis (BullMQ): a `redis://` URL or ioredis options. Absent: the
   * `BullModule.forRoot()` connection when the app configures `@nestjs/bullmq`, else memory.
   */
  redis?: string | RedisOptions;
  /** Queue settings for queued broadcasts. */
  queue?: SocketMeshQueueOptions;
}

/** What the factory of `forWorkerAsync({ useFactory })` (no name argument) returns: the options and the worker's name. */
export interface SocketMeshNamedWorkerOptions extends SocketMeshWorkerOptions {
  /** This worker's name (from `ConfigService`, say). */
  name: string;
}

/** Implemented by a class given to `forWorkerAsync({ useClass })` or `{ useExisting }`. */
export interface SocketMeshWorkerOptionsFactory<O extends SocketMeshWorkerOptions = SocketMeshWorkerOptions> {
  createSocketMeshOptions(): O | Promise<O>;
}

/**
 * Options of `SocketMeshModule.forWorkerAsync(name, options)`, or of `forWorkerAsync(options)`
 * when `O` is `SocketMeshNamedWorkerOptions` (the factory gives the name too): exactly one of
 * useFactory, useClass, useExisting.
 */
export interface SocketMeshWorkerAsyncOptions<O extends SocketMeshWorkerOptions = SocketMeshWorkerOptions> extends Pick<
  ModuleMetadata,
  'imports'
> {
  /** Builds the options; gets the providers listed in `inject`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory?: (...args: any[]) => O | Promise<O>;
  /** Providers passed to `useFactory`. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** A class implementing `SocketMeshWorkerOptionsFactory`, instantiated by this module. */
  useClass?: Type<SocketMeshWorkerOptionsFactory<O>>;
  /** An existing provider implementing `SocketMeshWorkerOptionsFactory`. */
  useExisting?: Type<SocketMeshWorkerOptionsFactory<O>>;
}
