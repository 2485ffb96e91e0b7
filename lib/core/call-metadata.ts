import { MeshError, MeshErrorCode } from './errors.js';

/** String pairs a caller sends along with one request (correlation ids, tenants, trace context). */
export type CallMetadata = Record<string, string>;

/** What the receiving worker knows about one request besides its payload. */
export interface CallContext {
  /** The calling instance, as its handshake proved it. */
  caller: { worker: string; variant: string };
  /** The caller's `CallOptions.metadata`; `{}` when it sent none. */
  metadata: Readonly<CallMetadata>;
}

/** Bounds of `CallOptions.metadata`, so it stays a header, not a second payload. */
export const METADATA_LIMITS = { entries: 32, keyLength: 64, bytes: 4096 } as const;

/** Why `value` is not acceptable metadata, or undefined when it is. */
function metadataProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'metadata must be an object of strings';
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.entries)
    return `metadata has ${entries.length} entries (at most ${METADATA_LIMITS.entries})`;
  let bytes = 0;
  for (const [key, entry] of entries) {
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength)
      return `metadata key '${key.slice(0, 80)}' must be 1 to ${METADATA_LIMITS.keyLength} characters`;
    if (typeof entry !== 'string') return `metadata '${key}' must be a string, got ${typeof entry}`;
    bytes += Buffer.byteLength(key) + Buffer.byteLength(entry);
  }
  if (bytes > METADATA_LIMITS.bytes) return `metadata is ${bytes} bytes (at most ${METADATA_LIMITS.bytes})`;
  return undefined;
}

/** The caller's side: the metadata as JSON for the request, undefined when there is none. Throws MESH_BAD_REQUEST over the limits. */
export function encodeMetadata(value: unknown, worker: string, command: string): string | undefined {
  if (value === undefined) return undefined;
  const problem = metadataProblem(value);
  if (problem) throw new MeshError(MeshErrorCode.BAD_REQUEST, problem, { worker, command });
  return Object.keys(value as object).length === 0 ? undefined : JSON.stringify(value);
}

/** The receiving side: the metadata a request carried (`{}` when absent), or a reason to refuse it. */
export function decodeMetadata(value: unknown): { metadata: CallMetadata } | { problem: string } {
  if (value === undefined) return { metadata: {} };
  const problem = metadataProblem(value);
  // A null prototype: keys such as '__proto__' stay plain data.
  return problem ? { problem } : { metadata: Object.assign(Object.create(null) as CallMetadata, value) };
}
