import type { EventEmitter } from 'node:events';
import type { RegistryEntry } from '../manager/registry.js';
import { buildTopologyView, type TopologyView } from './topology-view.js';

export interface TopologySource {
  nodes(): RegistryEntry[];
  /** Emits 'registered' and 'unregistered' as instances come and go (the Manager). */
  events: Pick<EventEmitter, 'on' | 'off'>;
}

export interface TopologySubscriber {
  next(view: TopologyView): void;
  /** The manager closed: end the stream. */
  end(): void;
}

/**
 * Fans the registry's changes out to live viewers (the page's event stream). A burst of
 * registrations (a whole deployment starting) becomes one view per event-loop turn.
 */
export class TopologyFeed {
  private readonly subscribers = new Set<TopologySubscriber>();
  private pending: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly onChange = () => {
    if (this.subscribers.size === 0 || this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      const view = this.view();
      for (const s of this.subscribers) s.next(view);
    });
  };

  constructor(private readonly source: TopologySource) {
    source.events.on('registered', this.onChange);
    source.events.on('unregistered', this.onChange);
  }

  view(): TopologyView {
    return buildTopologyView(this.source.nodes());
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
    this.source.events.off('registered', this.onChange);
    this.source.events.off('unregistered', this.onChange);
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subscribers) s.end();
  }
}
