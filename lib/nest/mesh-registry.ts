import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { RegistryEntry } from '../core/manager/registry.js';
import { ManagerHost, type MeshRegistryChange } from './manager.host.js';

export type { MeshRegistryChange } from './manager.host.js';

/**
 * The manager's registry, injectable in a manager app (`SocketMeshModule.forManager` /
 * `forManagerAsync`): what `GET /socket-mesh/nodes` shows, read in-process, and a stream of
 * registrations and departures.
 */
@Injectable()
export class MeshRegistry {
  constructor(private readonly host: ManagerHost) {}

  /** Every registered instance, as `GET /socket-mesh/nodes` lists it (empty before the manager starts). */
  nodes(): RegistryEntry[] {
    return this.host.nodes();
  }

  /**
   * One value per registration (`type: 'registered'`) or departure (`'unregistered'`), after
   * the registry has changed: `nodes()` inside a subscriber already shows it. Hot (no replay of
   * earlier changes); completes when the manager closes.
   */
  get changes$(): Observable<MeshRegistryChange> {
    return this.host.changes$;
  }
}
