import { MeshError, MeshErrorCode } from '../errors.js';
import type { CallOptions } from './types.js';

export const DEFAULT_TIMEOUT = 10_000;

/** Which variants a call may choose; undefined: all of them. */
export type VariantFilter = ((variant: string) => boolean) | undefined;

export function checkTimeout(timeout: unknown, worker: string, command: string): void {
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `timeout must be a positive number of ms, got ${String(timeout)}`, { worker, command });
  }
}

export function checkRetries(retries: unknown, worker: string, command: string): void {
  if (retries !== undefined && !(Number.isInteger(retries) && (retries as number) >= 0)) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `retries must be a whole number ≥ 0, got ${String(retries)}`, { worker, command });
  }
}

function toList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

export function variantFilter(options: CallOptions): VariantFilter {
  const only = toList(options.only);
  const exclude = toList(options.exclude);
  if (!only && !exclude) return undefined;
  return (variant) => (!only || only.includes(variant)) && (!exclude || !exclude.includes(variant));
}
