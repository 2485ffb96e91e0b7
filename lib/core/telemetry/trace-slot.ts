/**
 * The W3C trace context of one request, as it travels in the request head's third slot
 * (`[command, metadata | null, slot]`, inside the sealed frame). Separate from the caller's
 * metadata: it neither counts against METADATA_LIMITS nor clashes with a user's own keys.
 */
export type TraceSlot = Record<string, string>;

/** At most this many entries, each at most this long: a header, never a second payload. */
const LIMITS = { entries: 4, length: 512 } as const;

/** The slot as a request carried it, or undefined when absent or not shaped like a carrier. */
export function readTraceSlot(value: unknown): TraceSlot | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > LIMITS.entries) return undefined;
  const slot = Object.create(null) as TraceSlot;
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string' || entry.length > LIMITS.length || key.length > 64) return undefined;
    slot[key] = entry;
  }
  return slot;
}

/** What a queued job keeps to link its CONSUMER span to its PRODUCER span and to time its wait. */
export interface JobTrace {
  /** When the job was stored (ms since the epoch). */
  at: number;
  /** The PRODUCER span's context, when tracing is on. */
  slot?: TraceSlot;
}

/** A JobTrace read back from a store (Redis): anything malformed is dropped, never trusted. */
export function readJobTrace(value: unknown): JobTrace | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { at, slot } = value as { at?: unknown; slot?: unknown };
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  const trace: JobTrace = { at };
  const read = readTraceSlot(slot);
  if (read) trace.slot = read;
  return trace;
}
