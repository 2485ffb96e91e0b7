import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import { textForLog } from './mesh-name.js';

/** What a worker makes of the manager's refusal: retry (it is busy), or report it. */
export type ManagerRefusal = { transient: true; logLine: string } | { transient: false; logLine: string; error: MeshError };

/**
 * MESH_OVERLOADED (or an older manager's rate-limit text) means the manager is busy: not the
 * worker's fault, and not fatal; the server-side disconnect that follows schedules a jittered
 * retry. Anything else is reported as the MeshError ready() rejects with: the manager's code
 * when it is one a refusal carries, else MESH_AUTH_FAILED.
 */
export function classifyRefusal(error: Partial<SerializedMeshError> | undefined): ManagerRefusal {
  const message = typeof error?.message === 'string' ? error.message : undefined;
  if (error?.code === MeshErrorCode.OVERLOADED || message?.includes('retry later')) {
    return { transient: true, logLine: `the manager is busy (${textForLog(message)}); retrying` };
  }
  const reason = message ?? 'no reason given';
  const code =
    error?.code === MeshErrorCode.AUTH_FAILED ||
    error?.code === MeshErrorCode.ACCESS_DENIED ||
    error?.code === MeshErrorCode.SCHEMA_INVALID
      ? error.code
      : MeshErrorCode.AUTH_FAILED;
  // The reason is the remote's text: escaped in the log line, kept as sent in the error.
  return {
    transient: false,
    logLine: `the manager refused this worker: ${textForLog(reason)}`,
    error: new MeshError(code, `the manager refused this worker: ${reason}`),
  };
}
