import type { CommandSpec } from './command-spec.js';
import { lookupOwn } from './command-spec.js';
import type { PeerLink } from './peer-link.js';

/**
 * The links to every instance of one worker name. Balanced calls rotate over the links that
 * are ready, one variant after the other; a link that drops leaves the rotation at once.
 */
export class PeerGroup {
  readonly links = new Map<string, PeerLink>();
  private cursor = 0;
  /** The ready links, kept between calls: the hot path must not build an array per call. */
  private readyCache: PeerLink[] | undefined;
  private readonly specCache = new Map<string, CommandSpec | undefined>();

  constructor(readonly worker: string) {}

  /** A link came up, went down, was added or removed, or its commands changed. */
  changed(): void {
    this.readyCache = undefined;
    this.specCache.clear();
  }

  /** The ready links (do not mutate the array: without a filter it is shared). */
  ready(filter?: (variant: string) => boolean): PeerLink[] {
    if (!filter) {
      const cached = this.readyCache;
      if (cached && cached.every((link) => link.state === 'ready')) return cached;
      return (this.readyCache = this.collectReady());
    }
    const out: PeerLink[] = [];
    for (const link of this.links.values()) {
      if (link.state === 'ready' && (!filter || filter(link.variant))) out.push(link);
    }
    return out;
  }

  /**
   * Next ready link in round-robin order, skipping those the filter refuses. With `usable`, a
   * link it refuses (one at its pending limit) is passed over for the next one it accepts; when
   * it accepts none, the round-robin link is returned anyway (its request then says why).
   */
  next(filter?: (variant: string) => boolean, usable?: (link: PeerLink) => boolean): PeerLink | undefined {
    const candidates = this.ready(filter);
    if (candidates.length === 0) return undefined;
    const start = this.cursor % candidates.length;
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    if (usable) {
      for (let i = 0; i < candidates.length; i++) {
        const link = candidates[(start + i) % candidates.length]!;
        if (usable(link)) return link;
      }
    }
    return candidates[start];
  }

  private collectReady(): PeerLink[] {
    const out: PeerLink[] = [];
    for (const link of this.links.values()) if (link.state === 'ready') out.push(link);
    return out;
  }

  /** Listed by the manager and still being dialed. */
  hasConnecting(filter?: (variant: string) => boolean): boolean {
    for (const link of this.links.values()) {
      if (link.state === 'connecting' && (!filter || filter(link.variant))) return true;
    }
    return false;
  }

  /** The command as the instances declare it; the first that knows it decides. */
  spec(command: string): CommandSpec | undefined {
    if (this.specCache.has(command)) return this.specCache.get(command);
    let found: CommandSpec | undefined;
    for (const link of this.links.values()) {
      found = lookupOwn(link.commands, command);
      if (found) break;
    }
    // Unknown names are not cached: a caller looping over random names must not grow memory.
    if (found) this.specCache.set(command, found);
    return found;
  }
}
