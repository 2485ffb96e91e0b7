import type { Attributes } from '@opentelemetry/api';
import { OUTCOME, rpcAttributes } from './rpc-attributes.js';

/**
 * The attributes of one (worker, command) and its calls in flight, kept between calls: the
 * metric attribute objects are built once, and the in-flight count is a plain number the
 * observable counter reads at collection time, not two SDK calls (and attribute hashes) per call.
 */
export interface CallSeries {
  readonly attributes: Attributes;
  inFlight: number;
  outcome(code: string): Attributes;
}

/** Enough for every command of a real mesh; calls to names past it still work, uncached. */
const MAX_SERIES = 2000;

export class SeriesTable {
  private readonly table = new Map<string, CallSeries>();

  get(worker: string, command: string): CallSeries {
    const key = `${worker}\u0000${command}`;
    let series = this.table.get(key);
    if (!series) {
      series = createSeries(worker, command);
      if (this.table.size < MAX_SERIES) this.table.set(key, series);
    }
    return series;
  }

  values(): IterableIterator<CallSeries> {
    return this.table.values();
  }
}

function createSeries(worker: string, command: string): CallSeries {
  const attributes = rpcAttributes(worker, command);
  const outcomes = new Map<string, Attributes>();
  return {
    attributes,
    inFlight: 0,
    outcome(code) {
      let found = outcomes.get(code);
      if (!found) outcomes.set(code, (found = { ...attributes, [OUTCOME]: code }));
      return found;
    },
  };
}
