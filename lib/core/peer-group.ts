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

  constructor(readonly worker: string) {}

  ready(filter?: (variant: string) => boolean): PeerLink[] {
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

  /** Listed by the manager and still being dialed. */
  hasConnecting(filter?: (variant: string) => boolean): boolean {
    for (const link of this.links.values()) {
      if (link.state === 'connecting' && (!filter || filter(link.variant))) return true;
    }
    return false;
  }

  /** The command as the instances declare it; the first that knows it decides. */
  spec(command: string): CommandSpec | undefined {
    for (const link of this.links.values()) {
      const spec = lookupOwn(link.commands, command);
      if (spec) return spec;
    }
    return undefined;
  }
}
