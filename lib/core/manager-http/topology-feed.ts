import type { EventEmitter } from 'node:events';
import type { RegistryEntry } from '../manager/registry.js';
import type { LinkReport } from '../protocol.js';
import { buildTopologyView, type TopologyView } from './topology-view.js';

export interface TopologySource {
  nodes(): RegistryEntry[];
  /** The live links instances reported, by reporting variant. */
  reportedLinks(): { entries(): Iterable<[string, LinkReport]> };
  /** Emits 'registered' and 'unregistered' as instances come and go, 'links' as they report (the Manager). */
  events: Pick<EventEmitter, 'on' | 'off'>;
}

export interface TopologySubscriber {
  next(view: TopologyView): void;
  /** The manager closed: end the stream. */
  end(): void;
}

/** Link reports move a view at most this often (a thousand workers each reporting a few per second). */
const LINKS_INTERVAL_MS = 250;

/**
 * Fans the registry's changes out to live viewers (the page's event stream). A burst of
 * registrations (a whole deployment starting) becomes one view per event-loop turn; link
 * reports, one view per LINKS_INTERVAL_MS at most.
 */
export class TopologyFeed {
  private readonly subscribers = new Set<TopologySubscriber>();
  private pending: NodeJS.Immediate | undefined;
  private linksTimer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private closed = false;
  private readonly onChange = () => {
    if (this.subscribers.size === 0 || this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.lastSent = Date.now();
      const view = this.view();
      for (const s of this.subscribers) s.next(view);
    });
  };
  private readonly onLinks = () => {
    if (this.subscribers.size === 0 || this.pending || this.linksTimer) return;
    const wait = this.lastSent + LINKS_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.onChange();
    this.linksTimer = setTimeout(() => {
      this.linksTimer = undefined;
      this.onChange();
    }, wait);
  };

  constructor(private readonly source: TopologySource) {
    source.events.on('registered', this.onChange);
    source.events.on('unregistered', this.onChange);
    source.events.on('links', this.onLinks);
  }

  view(): TopologyView {
    return buildTopologyView(this.source.nodes(), new Date(), this.source.reportedLinks().entries());
  }

  /** Sends the current view at once, then every change; returns the unsubscribe function. */
  subscribe(subscriber: TopologySubscriber): () => void {
    if (this.closed) {
      subscriber.end();
      return () => undefined;
    }
    this.subscribers.add(subscriber);
    subscriber.next(this.view());
    return () => this.subscribers.delete(subscriber);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearImmediate(this.pending);
    clearTimeout(this.linksTimer);
    this.source.events.off('registered', this.onChange);
    this.source.events.off('unregistered', this.onChange);
    this.source.events.off('links', this.onLinks);
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subscribers) s.end();
  }
}
