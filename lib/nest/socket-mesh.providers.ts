import type { InjectionToken, Provider } from '@nestjs/common';
import { invalidOptions } from '../core/options/option-reader.js';
import type {
  SocketMeshManagerAsyncOptions,
  SocketMeshManagerOptions,
  SocketMeshManagerOptionsFactory,
} from './interfaces/manager-options.interface.js';
import type {
  SocketMeshNamedWorkerOptions,
  SocketMeshWorkerAsyncOptions,
  SocketMeshWorkerOptions,
  SocketMeshWorkerOptionsFactory,
} from './interfaces/worker-options.interface.js';
import { asyncOptionsMessage, MANAGER_LABEL, workerLabel } from './socket-mesh.messages.js';
import { resolveManagerOptions, resolveNamedWorkerOptions, resolveWorkerOptions } from './socket-mesh.options.js';
import {
  SOCKET_MESH_MANAGER_OPTIONS,
  SOCKET_MESH_RAW_MANAGER_OPTIONS,
  SOCKET_MESH_RAW_WORKER_OPTIONS,
  SOCKET_MESH_WORKER_NAME,
  SOCKET_MESH_WORKER_OPTIONS,
} from './socket-mesh.constants.js';

// The resolved shapes live with their validation; re-exported for the hosts that inject them.
export type { ResolvedManagerOptions, ResolvedWorkerOptions } from './socket-mesh.options.js';

/** The DI providers of the module: raw options in, validated options (checked when the app starts) out. */

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
  return [
    { provide: SOCKET_MESH_WORKER_NAME, useValue: worker },
    ...asyncOptionsProviders(workerLabel(worker), SOCKET_MESH_RAW_WORKER_OPTIONS, options, (f: SocketMeshWorkerOptionsFactory) =>
      f.createSocketMeshOptions(),
    ),
    resolvedWorkerOptionsProvider,
  ];
}

/** `forWorkerAsync({ useFactory })`: the factory gives the name with the options; the name is read out of them. */
export function createNamedWorkerAsyncProviders(options: SocketMeshWorkerAsyncOptions<SocketMeshNamedWorkerOptions>): Provider[] {
  const where = 'SocketMeshModule.forWorkerAsync()';
  return [
    ...asyncOptionsProviders(
      where,
      SOCKET_MESH_NAMED_WORKER_OPTIONS,
      options,
      (f: SocketMeshWorkerOptionsFactory<SocketMeshNamedWorkerOptions>) => f.createSocketMeshOptions(),
    ),
    {
      provide: SOCKET_MESH_WORKER_NAME,
      useFactory: (named: unknown) => resolveNamedWorkerOptions(where, named).worker,
      inject: [SOCKET_MESH_NAMED_WORKER_OPTIONS],
    },
    {
      provide: SOCKET_MESH_WORKER_OPTIONS,
      useFactory: (named: unknown) => resolveNamedWorkerOptions(where, named),
      inject: [SOCKET_MESH_NAMED_WORKER_OPTIONS],
    },
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

/** The factory's answer of `forWorkerAsync({ ... })`, options and name together. */
const SOCKET_MESH_NAMED_WORKER_OPTIONS = Symbol('SOCKET_MESH_NAMED_WORKER_OPTIONS');

/** `forXAsync({ useFactory | useClass | useExisting })`: exactly one; a class is asked through `create`. */
function asyncOptionsProviders<F>(
  where: string,
  token: symbol,
  options:
    SocketMeshWorkerAsyncOptions<SocketMeshNamedWorkerOptions> | SocketMeshWorkerAsyncOptions | SocketMeshManagerAsyncOptions,
  create: (factory: F) => unknown,
): Provider[] {
  const given = [options?.useFactory, options?.useClass, options?.useExisting].filter((x) => x !== undefined);
  if (given.length !== 1) throw invalidOptions(asyncOptionsMessage(where));
  if (options.useFactory) {
    return [{ provide: token, useFactory: options.useFactory, inject: options.inject ?? [] }];
  }
  const fromClass = (factoryClass: InjectionToken): Provider => ({
    provide: token,
    useFactory: (factory: F) => create(factory),
    inject: [factoryClass],
  });
  if (options.useClass) return [fromClass(options.useClass), { provide: options.useClass, useClass: options.useClass }];
  if (options.useExisting) return [fromClass(options.useExisting)];
  throw invalidOptions(asyncOptionsMessage(where));
}
