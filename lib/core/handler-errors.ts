import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';

/*
 * How a failure on the callee's side travels back to the caller: a handler's own error as
 * MESH_REMOTE_ERROR, a mesh failure (queue, overload) with its own code.
 */

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function toSerialized(err: unknown, fallback: MeshError['code']): SerializedMeshError {
  if (err instanceof MeshError) return { code: err.code, message: err.message };
  return { code: fallback, message: describe(err) };
}

/**
 * A handler's error as the caller will see it: MESH_REMOTE_ERROR with the remote name and
 * message, plus `status` and `response` when it looks like a Nest HttpException (duck-typed:
 * the core has no Nest import).
 */
export function serializeHandlerError(err: unknown): SerializedMeshError {
  const out: SerializedMeshError = { code: MeshErrorCode.REMOTE_ERROR, message: describe(err) };
  if (typeof err !== 'object' || err === null) {
    out.remoteName = typeof err;
    return out;
  }
  const e = err as { name?: unknown; status?: unknown; getStatus?: unknown; getResponse?: unknown };
  out.remoteName = typeof e.name === 'string' ? e.name : 'Error';
  const status = typeof e.getStatus === 'function' ? (e.getStatus as () => unknown).call(err) : e.status;
  if (typeof status === 'number') out.status = status;
  if (typeof e.getResponse === 'function') {
    const response = (e.getResponse as () => unknown).call(err);
    try {
      JSON.stringify(response);
      out.response = response;
    } catch {
      // not serialisable: the message and status still travel
    }
  }
  return out;
}
