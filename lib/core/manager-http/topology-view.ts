import type { RegistryEntry } from '../manager/registry.js';
import type { LinkReport, LinkState } from '../protocol.js';
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

/** A link an instance reports holding: instance `fromVariant` of `from` is linked to `toVariant` of `to`. */
export interface ReportedLink {
  from: string;
  fromVariant: string;
  to: string;
  toVariant: string;
  /** 'ready': calls go through it; 'leaving': the callee announced it drains. */
  state: LinkState;
}

/** What `GET /socket-mesh/topology` and each `topology` event of `GET /socket-mesh/events` carry. */
export interface TopologyView {
  /** When this view was taken (ISO 8601). */
  at: string;
  workers: TopologyWorker[];
  instances: RegistryEntry[];
  /** Who may call whom: derived from the registered rights, not from the links workers hold. */
  links: TopologyLink[];
  /** The links the instances report holding right now (both ends registered). */
  reportedLinks: ReportedLink[];
}

const rightsOf = (e: RegistryEntry) => ({ name: e.worker, allow: e.allow, connect: e.connect });

/** Builds the view from the registry; workers and instances sorted so that equal registries give equal views. */
export function buildTopologyView(
  entries: readonly RegistryEntry[],
  now = new Date(),
  reports: Iterable<[variant: string, report: LinkReport]> = [],
): TopologyView {
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
  return { at: now.toISOString(), workers: [...workers.values()], instances, links, reportedLinks: reported(instances, reports) };
}

/** The reports resolved to worker names; a link to an instance no longer registered is left out (its leave is news already). */
function reported(instances: readonly RegistryEntry[], reports: Iterable<[string, LinkReport]>): ReportedLink[] {
  const workerOf = new Map(instances.map((i) => [i.variant, i.worker]));
  const out: ReportedLink[] = [];
  for (const [fromVariant, report] of reports) {
    const from = workerOf.get(fromVariant);
    if (from === undefined) continue;
    for (const [toVariant, state] of report) {
      const to = workerOf.get(toVariant);
      if (to !== undefined) out.push({ from, fromVariant, to, toVariant, state });
    }
  }
  // Code-unit order, not localeCompare: a thousand instances may report tens of thousands of links.
  return out.sort(
    (a, b) => cmp(a.from, b.from) || cmp(a.fromVariant, b.fromVariant) || cmp(a.to, b.to) || cmp(a.toVariant, b.toVariant),
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
