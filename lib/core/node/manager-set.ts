import { EventEmitter } from 'node:events';
import type { ManagerAddress } from '../link-address.js';
import { ManagerLink, type ManagerLinkOptions } from '../manager-link.js';
import type { MeshError } from '../errors.js';
import type { LinkReport, PeerInfo, Topology } from '../protocol.js';

/**
 * A worker's links to every manager it was given (one ManagerLink each). The worker registers
 * with all of them and works from the union of what they list, so losing one manager changes
 * nothing while another is up: the registry is soft state that each manager rebuilds from the
 * registrations.
 *
 * Merging: a peer listed by any manager is dialed (by variant; the newest registration of a
 * variant among the managers wins on its address). A manager that is down keeps its last word
 * only while no other manager is registered, so a dead manager's stale list does not keep
 * gone peers around; links stay up whatever the lists say (see PeerDirectory.applyTopology).
 *
 * Events, as a single ManagerLink's: 'registered' (once per manager registration),
 * 'topology' (the merged Topology), 'refused' (MeshError, only when every manager refused).
 */
export class ManagerSet extends EventEmitter {
  private readonly links: ManagerLink[];
  private readonly topologies = new Map<ManagerLink, Topology>();
  private readonly refused = new Set<ManagerLink>();

  constructor(
    managers: readonly ManagerAddress[],
    options: Omit<ManagerLinkOptions, 'manager'>,
    identity: { worker: string; variant: string },
  ) {
    super();
    this.links = managers.map((manager) => {
      const link = new ManagerLink({ ...options, manager }, identity);
      link.on('registered', (info: unknown) => {
        this.refused.delete(link);
        this.emit('registered', info);
      });
      link.on('topology', (topology: Topology) => {
        this.topologies.set(link, topology);
        this.emit('topology', this.merged());
      });
      link.on('disconnected', () => {
        if (this.links.some((l) => l !== link && l.registered) && this.topologies.delete(link))
          this.emit('topology', this.merged());
      });
      link.on('refused', (err: MeshError) => {
        this.refused.add(link);
        if (this.refused.size === this.links.length) this.emit('refused', err);
      });
      return link;
    });
  }

  /** Registered with at least one manager. */
  get registered(): boolean {
    return this.links.some((l) => l.registered);
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  /** Every manager gets the report (a manager away gets it when it registers this worker again). */
  reportLinks(report: LinkReport): void {
    for (const link of this.links) link.reportLinks(report);
  }

  unregister(): void {
    for (const link of this.links) link.unregister();
  }

  close(): void {
    for (const link of this.links) link.close();
  }

  private merged(): Topology {
    return mergeTopologies([...this.topologies.values()]);
  }
}

/** The union of several managers' topologies: every peer any of them lists (by variant); a worker is denied only when none lists an instance of it. */
export function mergeTopologies(topologies: readonly Topology[]): Topology {
  if (topologies.length === 1) return topologies[0]!;
  const peers = new Map<string, PeerInfo>();
  const denied = new Set<string>();
  for (const topology of topologies) {
    for (const peer of topology.peers) peers.set(peer.variant, peer);
    for (const name of topology.denied) denied.add(name);
  }
  for (const peer of peers.values()) denied.delete(peer.worker);
  return { peers: [...peers.values()], denied: [...denied] };
}

/** `manager` as given: one address or a list. */
export function managerList(manager: ManagerAddress | readonly ManagerAddress[]): ManagerAddress[] {
  return Array.isArray(manager) ? [...(manager as readonly ManagerAddress[])] : [manager as ManagerAddress];
}
