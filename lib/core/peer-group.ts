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

  /** Next ready link in round-robin order, skipping those the filter refuses. */
  next(filter?: (variant: string) => boolean): PeerLink | undefined {
    const candidates = this.ready(filter);
    if (candidates.length === 0) return undefined;
    const link = candidates[this.cursor % candidates.length];
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return link;
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
