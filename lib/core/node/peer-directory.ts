import { EventEmitter } from 'node:events';
import type { MeshKeys } from '../crypto/mesh-keys.js';
import type { MeshLogger } from '../logger.js';
import { PeerLink } from '../peer-link.js';
import type { MeshTlsOptions } from '../tls/tls-options.js';
import type { LinkReport, PeerInfo, Topology } from '../protocol.js';
import { PeerGroup } from './peer-group.js';
import type { MeshEventPayload, PeerDescriptor } from './types.js';
import type { LivenessTimes } from './link-liveness.js';

export interface PeerDirectoryOptions {
  self: { worker: string; variant: string };
  keys: MeshKeys;
  logger: MeshLogger;
  /** Worker names this node may call: the topology's other entries are ignored. */
  connect: ReadonlySet<string>;
  maxFrameSize: number;
  maxPending: number;
  /** Handshake deadline of each outgoing attempt, ms. */
  handshakeTimeout?: number;
  /** The heartbeat of the links this node opens (see PeerLinkOptions.heartbeat). */
  heartbeat: LivenessTimes;
  /** TLS mode (see PeerLinkOptions.tls). */
  tls?: MeshTlsOptions;
  /** 'peer.connected' / 'peer.disconnected' of outgoing links. */
  onPeerEvent(event: 'peer.connected' | 'peer.disconnected', payload: MeshEventPayload): void;
  /** After anything that may change `linkReport()` (never per call). */
  onChange?(): void;
}

/**
 * The peers this node may call: one PeerGroup per worker name, built from the manager's
 * topology. Anything that may make a waiting call succeed or fail (a topology, a link up or
 * down, a refusal, registration) is announced through `nextChange`.
 */
export class PeerDirectory {
  private readonly groups = new Map<string, PeerGroup<PeerLink>>();
  private readonly changes = new EventEmitter();
  private denied = new Set<string>();
  /** Variants the manager's latest topology lists for this worker to dial. */
  private listedVariants = new Set<string>();
  private received = false;
  private closed = false;

  constructor(private readonly options: PeerDirectoryOptions) {
    this.changes.setMaxListeners(0);
  }

  /** Whether the manager has sent a topology yet (before it, nothing is known to be missing). */
  get topologyReceived(): boolean {
    return this.received;
  }

  group(worker: string): PeerGroup<PeerLink> | undefined {
    return this.groups.get(worker);
  }

  /** Whether `worker`'s allow refuses this node (by the manager's word or a peer's DENIED). */
  isDenied(worker: string): boolean {
    return this.denied.has(worker);
  }

  /** Connected instances this worker can call, optionally of one worker name. */
  peers(worker?: string): PeerDescriptor[] {
    const out: PeerDescriptor[] = [];
    for (const group of this.groups.values()) {
      if (worker !== undefined && group.worker !== worker) continue;
      for (const link of group.ready()) {
        out.push({ worker: link.worker, variant: link.variant, host: link.info.host, port: link.info.port });
      }
    }
    return out;
  }

  /** The peers this node is linked to (ready or leaving), at most `max`: what it reports to the manager. */
  linkReport(max: number): LinkReport {
    const report: LinkReport = [];
    for (const group of this.groups.values()) {
      for (const link of group.all()) {
        if (report.length >= max) return report;
        if (link.state === 'ready' || link.state === 'leaving') report.push([link.variant, link.state]);
      }
    }
    return report;
  }

  /** Wakes everyone waiting in `nextChange`. */
  changed(): void {
    this.changes.emit('change');
    this.options.onChange?.();
  }

  /** Resolves at the next change, or after `ms`. */
  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.changes.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.changes.on('change', done);
    });
  }

  applyTopology(topology: Topology): void {
    if (this.closed) return;
    this.received = true;
    this.denied = new Set(topology.denied);
    const listed = new Map<string, PeerInfo>();
    for (const peer of topology.peers) if (this.options.connect.has(peer.worker)) listed.set(peer.variant, peer);
    this.listedVariants = new Set(listed.keys());
    for (const group of [...this.groups.values()]) {
      for (const link of [...group.all()]) {
        const info = listed.get(link.variant);
        if (info && info.host === link.info.host && info.port === link.info.port) {
          group.update(link, (l) => (l.info = info)); // commands may have changed
          listed.delete(link.variant);
        } else if (info || (link.state !== 'ready' && link.state !== 'leaving')) {
          // Gone from the registry and not connected, or moved: drop it. A connected link
          // stays even when the manager forgot it (a manager restart must not cut traffic).
          this.removeLink(group, link);
        }
      }
    }
    for (const info of listed.values()) this.addLink(info);
    this.changed();
  }

  /** Closes every link; later topologies are ignored. */
  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) for (const link of group.all()) link.close();
    this.groups.clear();
    this.changed();
  }

  private addLink(info: PeerInfo): void {
    let group = this.groups.get(info.worker);
    if (!group) {
      group = new PeerGroup<PeerLink>(info.worker);
      this.groups.set(info.worker, group);
    }
    const { self, keys, logger, maxFrameSize, maxPending, handshakeTimeout, heartbeat, tls } = this.options;
    const link = new PeerLink(info, {
      self,
      keys,
      logger,
      maxFrameSize,
      maxPending,
      handshakeTimeout,
      heartbeat,
      ...(tls ? { tls } : {}),
    });
    // Into the group first: its cache must be right before the listeners below run.
    group.add(link);
    const payload = { worker: info.worker, variant: info.variant, direction: 'outgoing' as const };
    // A graceful leave is 'down' twice (LEAVING, then the disconnect): report it once.
    let up = false;
    link.on('ready', () => {
      up = true;
      logger.debug(`connected to ${info.worker}/${info.variant}`);
      this.options.onPeerEvent('peer.connected', payload);
      this.changed();
    });
    link.on('down', () => {
      if (up) {
        up = false;
        logger.info(`lost ${info.worker}/${info.variant}`);
        this.options.onPeerEvent('peer.disconnected', payload);
      }
      // Kept while connected although the manager no longer lists it (see applyTopology); now
      // that it is disconnected too, nothing will bring it back: stop dialing it, so callers get
      // MESH_NO_PEER at once instead of waiting their whole timeout on a dead address.
      // After the link's own disconnect handling (which arms its retry timer; close() clears it).
      queueMicrotask(() => {
        const current = this.groups.get(info.worker);
        if (link.state === 'connecting' && !this.listedVariants.has(info.variant) && current?.get(info.variant) === link) {
          this.removeLink(current, link);
          this.changed();
        }
      });
      this.changed();
    });
    link.on('denied', () => {
      this.denied.add(info.worker);
      this.changed();
    });
  }

  private removeLink(group: PeerGroup<PeerLink>, link: PeerLink): void {
    group.remove(link);
    link.removeAllListeners('ready');
    link.close();
    if (group.size === 0) this.groups.delete(group.worker);
  }
}
