import type { MeshLogger } from '../logger.js';

/**
 * Logs a line at `warn` the first time its key is seen and at `debug` after that: a worker with
 * other keys retries forever and must not fill the log. Bounded: past `maxKeys` it forgets.
 */
export class LogOnce {
  private readonly seen = new Set<string>();

  constructor(
    private readonly logger: MeshLogger,
    private readonly maxKeys = 10_000,
  ) {}

  warn(key: string, line: string): void {
    if (this.seen.has(key)) return this.logger.debug(line);
    if (this.seen.size > this.maxKeys) this.seen.clear();
    this.seen.add(key);
    this.logger.warn(line);
  }
}
