import type { PeerInfo, Registration, Topology } from '../protocol.js';
import { canConnect } from '../topology.js';

/** A registered instance: its registration with the address peers will dial resolved. */
export interface RegisteredInstance extends Registration {
  host: string;
  registeredAt: number;
}

/** What `GET /socket-mesh/nodes` shows: no command handlers, no keys. */
export interface RegistryEntry {
  worker: string;
  variant: string;
  host: string;
  port: number;
  allow: string[] | 'anyNode';
  connect: string[];
  commands: string[];
  registeredAt: string;
}

const rights = (i: RegisteredInstance) => ({ name: i.worker, allow: i.allow, connect: i.connect });

/** The manager's view of the mesh: instances by variant, and who may reach whom. */
export class Registry {
  private readonly instances = new Map<string, RegisteredInstance>();
  /** The same instances by worker name: a topology looks only at the workers it connects to. */
  private readonly byWorker = new Map<string, Map<string, RegisteredInstance>>();

  /** Adds or replaces by variant; returns the instance it replaced. */
  add(instance: RegisteredInstance): RegisteredInstance | undefined {
    const previous = this.instances.get(instance.variant);
    // Same worker: replaced in place (its position, hence the peers' order, stays).
    if (previous && previous.worker !== instance.worker) this.remove(instance.variant);
    this.instances.set(instance.variant, instance);
    let group = this.byWorker.get(instance.worker);
    if (!group) this.byWorker.set(instance.worker, (group = new Map<string, RegisteredInstance>()));
    group.set(instance.variant, instance);
    return previous;
  }

  remove(variant: string): RegisteredInstance | undefined {
    const previous = this.instances.get(variant);
    if (!previous) return undefined;
    this.instances.delete(variant);
    const group = this.byWorker.get(previous.worker);
    group?.delete(variant);
    if (group?.size === 0) this.byWorker.delete(previous.worker);
    return previous;
  }

  get(variant: string): RegisteredInstance | undefined {
    return this.instances.get(variant);
  }

  list(): RegisteredInstance[] {
    return [...this.instances.values()];
  }

  workerNames(): Set<string> {
    return new Set([...this.instances.values()].map((i) => i.worker));
  }

  /** The peers `instance` may dial, and the registered workers it names whose `allow` refuses it. */
  topologyFor(instance: RegisteredInstance): Topology {
    const peers: PeerInfo[] = [];
    const denied = new Set<string>();
    for (const worker of new Set(instance.connect)) {
      for (const other of this.byWorker.get(worker)?.values() ?? []) {
        if (other.variant === instance.variant) continue;
        if (canConnect(rights(instance), rights(other))) {
          peers.push({
            worker: other.worker,
            variant: other.variant,
            host: other.host,
            port: other.port,
            commands: other.commands,
          });
        } else {
          denied.add(other.worker);
        }
      }
    }
    for (const p of peers) denied.delete(p.worker);
    return { peers, denied: [...denied] };
  }

  entries(): RegistryEntry[] {
    return this.list().map(entryOf);
  }
}

/** One instance as `GET /socket-mesh/nodes` and the manager's events show it. */
export function entryOf(i: RegisteredInstance): RegistryEntry {
  return {
    worker: i.worker,
    variant: i.variant,
    host: i.host,
    port: i.port,
    allow: i.allow,
    connect: i.connect,
    commands: Object.keys(i.commands),
    registeredAt: new Date(i.registeredAt).toISOString(),
  };
}
