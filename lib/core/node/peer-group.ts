import type { CommandSpec, CommandTable } from '../command-spec.js';
import { lookupOwn } from '../command-spec.js';
import type { PeerLinkState } from '../peer-link.js';
import { FailureDetector } from './failure-detector.js';

/** What a group needs of a link (a PeerLink in the mesh). */
export interface GroupMember {
  readonly variant: string;
  readonly state: PeerLinkState;
  readonly commands: CommandTable;
  readonly hasRoom: boolean;
  on(event: 'ready' | 'down', listener: () => void): unknown;
  off(event: 'ready' | 'down', listener: () => void): unknown;
}

/**
 * The links to every instance of one worker name. Balanced calls rotate over the links that
 * are ready, one variant after the other; a link that drops leaves the rotation at once.
 * The group watches its links' 'ready'/'down' itself and every mutation goes through a method,
 * so its caches can never be stale because a caller forgot to say so.
 */
export class PeerGroup<L extends GroupMember = GroupMember> {
  private readonly links = new Map<string, L>();
  private readonly watchers = new Map<L, () => void>();
  private cursor = 0;
  /** The ready links, kept between calls: the hot path must not build an array per call. */
  private readyCache: L[] | undefined;
  private readonly specCache = new Map<string, CommandSpec | undefined>();
  /** Which instances balanced calls pass over for now (they stopped answering). */
  readonly health: FailureDetector;

  constructor(
    readonly worker: string,
    health: FailureDetector = new FailureDetector(),
  ) {
    this.health = health;
  }

  get size(): number {
    return this.links.size;
  }

  get(variant: string): L | undefined {
    return this.links.get(variant);
  }

  /** Every link, whatever its state. */
  all(): IterableIterator<L> {
    return this.links.values();
  }

  /** Adds (or replaces) the link of its variant and follows its state from now on. */
  add(link: L): void {
    const previous = this.links.get(link.variant);
    if (previous && previous !== link) this.unwatch(previous);
    this.links.set(link.variant, link);
    this.health.reset(link.variant);
    // Registered before anyone else's listeners, so the cache is right when they run. A link
    // that (re)connects is a new connection: its instance starts back in rotation.
    const watcher = () => {
      if (link.state === 'ready') this.health.reset(link.variant);
      this.invalidate();
    };
    this.watchers.set(link, watcher);
    link.on('ready', watcher);
    link.on('down', watcher);
    this.invalidate();
  }

  /** Removes the link if it is still the one of its variant; true when it was. */
  remove(link: L): boolean {
    if (this.links.get(link.variant) !== link) return false;
    this.links.delete(link.variant);
    this.unwatch(link);
    this.invalidate();
    return true;
  }

  /** The link's commands may have changed (a new topology for the same address). */
  update(link: L, apply: (link: L) => void): void {
    apply(link);
    this.invalidate();
  }

  /** The ready links (do not mutate the array: without a filter it is shared). */
  ready(filter?: (variant: string) => boolean): L[] {
    if (!filter) {
      const cached = this.readyCache;
      if (cached && cached.every((link) => link.state === 'ready')) return cached;
      return (this.readyCache = this.collectReady());
    }
    const out: L[] = [];
    for (const link of this.links.values()) {
      if (link.state === 'ready' && filter(link.variant)) out.push(link);
    }
    return out;
  }

  /**
   * Next ready link in round-robin order, skipping those the filter refuses. With `usable`, a
   * link it refuses (one at its pending limit) is passed over for the next one it accepts; when
   * it accepts none, the round-robin link is returned anyway (its request then says why).
   */
  next(filter?: (variant: string) => boolean, usable?: (link: L) => boolean): L | undefined {
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

  private invalidate(): void {
    this.readyCache = undefined;
    this.specCache.clear();
  }

  private unwatch(link: L): void {
    const watcher = this.watchers.get(link);
    if (!watcher) return;
    this.watchers.delete(link);
    link.off('ready', watcher);
    link.off('down', watcher);
  }

  private collectReady(): L[] {
    const out: L[] = [];
    for (const link of this.links.values()) if (link.state === 'ready') out.push(link);
    return out;
  }
}
