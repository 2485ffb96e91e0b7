/** Small statistics helpers: percentiles of one run, and the spread of a metric over rounds. */

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One metric over the rounds of a run: its median and its range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread | undefined {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return undefined;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), values: [...v] };
}

/** Latencies of one run, in µs; grows as needed. */
export class LatencyRecorder {
  private data = new Float64Array(1 << 14);
  private size = 0;

  push(us: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = us;
  }

  get count(): number {
    return this.size;
  }

  /** p50 and p99 (nearest rank), in µs. */
  summary(): { p50: number; p99: number } {
    const sorted = this.data.slice(0, this.size).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }
}
