import { MeshError, MeshErrorCode } from '../errors.js';
import { encodeMetadata, type CallMetadata } from '../call-metadata.js';
import { describeValue } from '../names.js';

/** A peer as `peers()` lists it; only its `variant` is read. */
export interface PeerRef {
  variant: string;
  worker?: string;
  host?: string;
  port?: number;
}

/** Instances named by variant string or by the peer objects `peers()` returns, one or a list. */
export type VariantSelector = string | PeerRef | readonly (string | PeerRef)[];

/** Options of one call; every field optional. */
export interface CallOptions {
  /** ms; default: the command's own timeout, else the worker's, else 10 000. */
  timeout?: number;
  /** Only these instances may be chosen or reached: variants or `peers()` entries. */
  only?: VariantSelector;
  /** These instances are never chosen or reached: variants or `peers()` entries. */
  exclude?: VariantSelector;
  /** Broadcasts: resolve with every instance's outcome instead of rejecting on a failure. */
  settle?: boolean;
  /** Balanced: retry on MESH_PEER_DISCONNECTED / MESH_NO_PEER on another instance (idempotent commands only). */
  retries?: number;
  /** Strings delivered to the handler's context (≤ 32 entries, keys ≤ 64 characters, ≤ 4 KiB in all). */
  metadata?: CallMetadata;
}

export type VariantFilter = ((variant: string) => boolean) | undefined;

/** A call's options checked; absent fields stay undefined so the command's and worker's defaults apply. */
export interface NormalizedCallOptions {
  timeout?: number;
  retries?: number;
  /** From only/exclude; undefined: every instance. */
  filter: VariantFilter;
  settle: boolean;
  /** The metadata as JSON for the request; undefined when there is none. */
  metadataJson?: string;
}

/** Checks one call's options; anything malformed is MESH_BAD_REQUEST naming the option. */
export function normalizeCallOptions(options: unknown, worker: string, command: string): NormalizedCallOptions {
  const bad = (message: string): MeshError => new MeshError(MeshErrorCode.BAD_REQUEST, message, { worker, command });
  if (options === undefined || options === null) return { filter: undefined, settle: false };
  if (typeof options !== 'object' || Array.isArray(options))
    throw bad(`call options must be an object, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  const { timeout, retries, settle } = o;
  if (timeout !== undefined) checkCallTimeout(timeout, worker, command);
  if (retries !== undefined && !(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0)) {
    throw bad(`retries must be a whole number ≥ 0, got ${String(retries)}`);
  }
  if (settle !== undefined && typeof settle !== 'boolean') throw bad(`settle must be a boolean, got ${describeValue(settle)}`);
  const only = variantList('only', o.only, bad);
  const exclude = variantList('exclude', o.exclude, bad);
  const normalized: NormalizedCallOptions = {
    filter: only || exclude ? (variant) => (!only || only.has(variant)) && (!exclude || !exclude.has(variant)) : undefined,
    settle: settle === true,
  };
  const metadataJson = encodeMetadata(o.metadata, worker, command);
  if (metadataJson !== undefined) normalized.metadataJson = metadataJson;
  if (timeout !== undefined) normalized.timeout = timeout as number;
  if (retries !== undefined) normalized.retries = retries as number;
  return normalized;
}

export function checkCallTimeout(timeout: unknown, worker: string, command: string): void {
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `timeout must be a positive number of ms, got ${String(timeout)}`, {
      worker,
      command,
    });
  }
}

function variantList(key: string, value: unknown, bad: (message: string) => MeshError): Set<string> | undefined {
  if (value === undefined) return undefined;
  const entries = Array.isArray(value) ? (value as unknown[]) : [value];
  const out = new Set<string>();
  for (const entry of entries) {
    const variant = typeof entry === 'string' ? entry : isPeerRef(entry) ? entry.variant : undefined;
    if (variant === undefined || variant.length === 0) {
      throw bad(
        `${key} must be a variant string, a peer from peers() ({ worker, variant, host, port }) or an array of these, got ${describeValue(entry)}`,
      );
    }
    out.add(variant);
  }
  return out;
}

function isPeerRef(value: unknown): value is PeerRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { variant?: unknown }).variant === 'string'
  );
}
