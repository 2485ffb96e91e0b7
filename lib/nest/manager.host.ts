import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { MeshError, MeshErrorCode } from '../core/errors.js';
import { Manager } from '../core/manager.js';
import type { RegistryEntry } from '../core/manager/registry.js';
import { createNestMeshLogger } from './nest-mesh-logger.js';
import type { ResolvedManagerOptions } from './socket-mesh.providers.js';
import { SOCKET_MESH_LOGGER_CONTEXT, SOCKET_MESH_MANAGER_OPTIONS } from './socket-mesh.constants.js';

/** A registry change, as `MeshRegistry.changes$` emits it. */
export interface MeshRegistryChange {
  type: 'registered' | 'unregistered';
  /** The instance, as `GET /socket-mesh/nodes` lists it. */
  entry: RegistryEntry;
}

/**
 * The manager inside a Nest app: the core Manager on its own socket port, started at
 * `onModuleInit` (the app does not finish starting until it listens) and closed on shutdown.
 * Its port discovery is served by the app's HTTP server (DiscoveryController), not by a
 * second server. A plain provider rather than a @WebSocketGateway: a gateway can take neither
 * a port chosen at run time nor the mesh's own handshake.
 */
@Injectable()
export class ManagerHost implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(SOCKET_MESH_LOGGER_CONTEXT);
  private current: Manager | undefined;
  private closing: Promise<void> | undefined;
  private readonly changes = new Subject<MeshRegistryChange>();

  constructor(@Inject(SOCKET_MESH_MANAGER_OPTIONS) private readonly options: ResolvedManagerOptions) {}

  async onModuleInit(): Promise<void> {
    const manager = new Manager({ ...this.options, discoveryPort: false, logger: createNestMeshLogger(this.logger) });
    this.current = manager;
    manager.on('registered', (entry) => this.changes.next({ type: 'registered', entry }));
    manager.on('unregistered', (entry) => this.changes.next({ type: 'unregistered', entry }));
    try {
      await manager.ready();
    } catch (err) {
      await manager.close().catch(() => undefined);
      throw err;
    }
  }

  /** The core Manager (after `onModuleInit`). */
  get manager(): Manager {
    if (!this.current) throw new MeshError(MeshErrorCode.CLOSED, 'the socket-mesh manager has not started yet');
    return this.current;
  }

  /** The socket port workers connect to (0 before it listens). */
  get port(): number {
    return this.current?.port ?? 0;
  }

  /** The registry: every registered instance, its address, rights and commands. */
  nodes(): RegistryEntry[] {
    return this.current?.nodes() ?? [];
  }

  /** Registrations and departures (see MeshRegistry.changes$). */
  get changes$(): Observable<MeshRegistryChange> {
    return this.changes.asObservable();
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= (this.current?.close() ?? Promise.resolve()).finally(() => this.changes.complete());
    return this.closing;
  }
}
