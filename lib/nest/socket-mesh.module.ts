import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DiscoveryController } from './discovery.controller.js';
import type { SocketMeshManagerAsyncOptions, SocketMeshManagerOptions } from './interfaces/manager-options.interface.js';
import type {
  SocketMeshNamedWorkerOptions,
  SocketMeshWorkerAsyncOptions,
  SocketMeshWorkerOptions,
} from './interfaces/worker-options.interface.js';
import { ManagerHost } from './manager.host.js';
import { MeshClient } from './mesh-client.js';
import { MeshRegistry } from './mesh-registry.js';
import { MeshWorkerHost } from './mesh-worker.host.js';
import { SocketMeshExplorer } from './socket-mesh.explorer.js';
import { TopologyController } from './topology.controller.js';
import {
  createManagerAsyncProviders,
  createManagerProviders,
  createWorkerAsyncProviders,
  createNamedWorkerAsyncProviders,
  createWorkerProviders,
} from './socket-mesh.providers.js';

/**
 * socket-mesh for Nest. A worker app imports `forWorker(name, options)`: its `@Balanced` and
 * `@Broadcast` methods become commands, and `MeshClient` is injectable everywhere (the module is
 * global). The manager app imports `forManager(options)`, which also serves
 * `GET /socket-mesh/port` and `GET /socket-mesh/nodes` on the app's HTTP server and makes
 * `MeshRegistry` injectable.
 * Options are checked when the app starts; errors name the worker and the field.
 */
@Module({})
export class SocketMeshModule {
  static forWorker(name: string, options: SocketMeshWorkerOptions): DynamicModule {
    return SocketMeshModule.worker(createWorkerProviders(name, options), []);
  }

  /**
   * Options from providers: `forWorkerAsync({ imports, inject, useFactory })` whose factory
   * returns the options and the worker's `name`, or `forWorkerAsync(name, { ... })`.
   */
  static forWorkerAsync(options: SocketMeshWorkerAsyncOptions<SocketMeshNamedWorkerOptions>): DynamicModule;
  static forWorkerAsync(name: string, options: SocketMeshWorkerAsyncOptions): DynamicModule;
  static forWorkerAsync(
    nameOrOptions: string | SocketMeshWorkerAsyncOptions<SocketMeshNamedWorkerOptions>,
    options?: SocketMeshWorkerAsyncOptions,
  ): DynamicModule {
    if (typeof nameOrOptions === 'object' && nameOrOptions !== null && options === undefined) {
      return SocketMeshModule.worker(createNamedWorkerAsyncProviders(nameOrOptions), nameOrOptions.imports ?? []);
    }
    return SocketMeshModule.worker(createWorkerAsyncProviders(nameOrOptions as string, options!), options?.imports ?? []);
  }

  static forManager(options: SocketMeshManagerOptions): DynamicModule {
    return SocketMeshModule.manager(createManagerProviders(options), []);
  }

  static forManagerAsync(options: SocketMeshManagerAsyncOptions): DynamicModule {
    return SocketMeshModule.manager(createManagerAsyncProviders(options), options.imports ?? []);
  }

  private static worker(
    providers: DynamicModule['providers'] & unknown[],
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    return {
      global: true,
      module: SocketMeshModule,
      imports: [DiscoveryModule, ...imports],
      providers: [...providers, SocketMeshExplorer, MeshWorkerHost, MeshClient],
      exports: [MeshClient],
    };
  }

  private static manager(
    providers: DynamicModule['providers'] & unknown[],
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    return {
      global: true,
      module: SocketMeshModule,
      imports,
      providers: [...providers, ManagerHost, MeshRegistry],
      controllers: [DiscoveryController, TopologyController],
      exports: [ManagerHost, MeshRegistry],
    };
  }
}
