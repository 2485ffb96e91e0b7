import type { RegistryEntry } from '../manager/registry.js';
import { canConnect } from '../topology.js';

/** A worker name and what its instances registered with. */
export interface TopologyWorker {
  name: string;
  instances: number;
  allow: string[] | 'anyNode';
  connect: string[];
  commands: string[];
}

/** Worker `from` may call worker `to`: its `connect` names `to` and `to`'s `allow` admits it. */
export interface TopologyLink {
  from: string;
  to: string;
}

/** What `GET /socket-mesh/topology` and each `topology` event of `GET /socket-mesh/events` carry. */
export interface TopologyView {
  /** When this view was taken (ISO 8601). */
  at: string;
  workers: TopologyWorker[];
  instances: RegistryEntry[];
  /** Derived from the registered rights, not from the links workers actually hold. */
  links: TopologyLink[];
}

const rightsOf = (e: RegistryEntry) => ({ name: e.worker, allow: e.allow, connect: e.connect });

/** Builds the view from the registry; workers and instances sorted so that equal registries give equal views. */
export function buildTopologyView(entries: readonly RegistryEntry[], now = new Date()): TopologyView {
  const instances = [...entries].sort((a, b) => a.worker.localeCompare(b.worker) || a.variant.localeCompare(b.variant));
  const workers = new Map<string, TopologyWorker>();
  for (const e of instances) {
    const w = workers.get(e.worker);
    if (w) {
      w.instances++;
      for (const c of e.commands) if (!w.commands.includes(c)) w.commands.push(c);
    } else {
      workers.set(e.worker, { name: e.worker, instances: 1, allow: e.allow, connect: [...e.connect], commands: [...e.commands] });
    }
  }
  const links: TopologyLink[] = [];
  const seen = new Set<string>();
  // Instances of one worker may register different rights (a rolling update): any pair that may connect counts.
  for (const from of instances) {
    for (const to of instances) {
      if (from.worker === to.worker) continue;
      const key = `${from.worker}\u0000${to.worker}`;
      if (seen.has(key) || !canConnect(rightsOf(from), rightsOf(to))) continue;
      seen.add(key);
      links.push({ from: from.worker, to: to.worker });
    }
  }
  links.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { at: now.toISOString(), workers: [...workers.values()], instances, links };
}
