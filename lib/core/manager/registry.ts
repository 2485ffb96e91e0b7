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

  /** Adds or replaces by variant; returns the instance it replaced. */
  add(instance: RegisteredInstance): RegisteredInstance | undefined {
    const previous = this.instances.get(instance.variant);
    this.instances.set(instance.variant, instance);
    return previous;
  }

  remove(variant: string): RegisteredInstance | undefined {
    const previous = this.instances.get(variant);
    this.instances.delete(variant);
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
    for (const other of this.instances.values()) {
      if (other.variant === instance.variant || !instance.connect.includes(other.worker)) continue;
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
