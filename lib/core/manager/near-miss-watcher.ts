import type { MeshLogger } from '../logger.js';
import { suggestName } from '../schema.js';
import type { Registry } from './registry.js';

const GRACE_MS = 5000;

/**
 * Warns about names a worker uses in `connect`/`allow` that look like typos of registered
 * workers. Workers start in any order, so a name that is missing right now may register in a
 * moment: the check runs once registrations have been quiet for a while. A Nest worker knows
 * only its own part of the schema, so a typo shows only here.
 */
export class NearMissWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly warned = new Set<string>();
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly logger: MeshLogger,
    /** Names the manager's schema defines: not typos, only workers that have not come up yet. */
    private readonly defined: (name: string) => boolean,
    private readonly graceMs = GRACE_MS,
  ) {}

  /** A registration happened: (re)start the quiet period. */
  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), this.graceMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private check(): void {
    if (this.stopped) return;
    const names = this.registry.workerNames();
    for (const instance of this.registry.list()) {
      const named = [...instance.connect, ...(instance.allow === 'anyNode' ? [] : instance.allow)];
      for (const name of named) {
        if (names.has(name) || this.defined(name)) continue;
        const hint = suggestName(
          name,
          [...names].filter((n) => n !== instance.worker),
        );
        const key = `${instance.worker}->${name}`;
        if (hint && !this.warned.has(key)) {
          this.warned.add(key);
          this.logger.warn(`worker '${instance.worker}' names '${name}', which never registered; did you mean '${hint}'?`);
        }
      }
    }
  }
}
