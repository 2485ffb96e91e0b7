/** Counts events per key in the current wall-clock second; a burst over `limit` is refused. */
export class RateLimiter {
  private readonly counts = new Map<string, { second: number; count: number }>();

  /** `maxKeys` bounds memory when many addresses connect (the table is reset past it). */
  constructor(
    private readonly limit: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Counts one event for `key`; true when it is over the limit for this second. */
  over(key: string): boolean {
    const second = Math.floor(Date.now() / 1000);
    const entry = this.counts.get(key);
    if (!entry || entry.second !== second) {
      if (this.counts.size > this.maxKeys) this.counts.clear();
      this.counts.set(key, { second, count: 1 });
      return false;
    }
    return ++entry.count > this.limit;
  }
}
