import type { Attributes } from '@opentelemetry/api';
import { MeshError, MeshErrorCode } from '../errors.js';

/** `rpc.system` of every span and metric point socket-mesh records. */
export const RPC_SYSTEM = 'socket-mesh';
/** The metric attribute holding a call's outcome: 'OK' or a MeshErrorCode. */
export const OUTCOME = 'socket_mesh.outcome';
export const ERROR_CODE = 'socket_mesh.error_code';
export const VARIANT = 'socket_mesh.variant';
export const CALLER = 'socket_mesh.caller';

export function rpcAttributes(worker: string, command: string): Attributes {
  return { 'rpc.system': RPC_SYSTEM, 'rpc.service': worker, 'rpc.method': command };
}

/** Enough for every (worker, command[, caller]) of a real mesh; past it, attributes are built per call. */
const MAX_CACHED = 2000;
const cache = new Map<string, Attributes>();

/**
 * The span attributes of a call, built once per (worker, command) and, on the callee, per
 * calling instance: not one object per call. Callers must not mutate them (the SDK copies them).
 */
export function spanAttributes(worker: string, command: string, caller?: { worker: string; variant: string }): Attributes {
  const key = caller ? `${worker}\u0000${command}\u0000${caller.worker}\u0000${caller.variant}` : `${worker}\u0000${command}`;
  let found = cache.get(key);
  if (!found) {
    found = rpcAttributes(worker, command);
    if (caller) found[CALLER] = `${caller.worker}/${caller.variant}`;
    if (cache.size < MAX_CACHED) cache.set(key, found);
  }
  return found;
}

/** The code a failure is recorded under: its MeshErrorCode, MESH_REMOTE_ERROR for anything else. */
export function outcomeCode(err: unknown): string {
  return err instanceof MeshError ? err.code : MeshErrorCode.REMOTE_ERROR;
}
