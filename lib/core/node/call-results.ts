import type { CommandSpec } from '../command-spec.js';
import { MeshError, MeshErrorCode, type MeshOutcome } from '../errors.js';

// What goes into a call and what comes out of a broadcast, apart from routing.

/**
 * What a broadcast resolves with: every outcome (`settle`), every answer (responds), or a count;
 * a failure rejects with MESH_PARTIAL_FAILURE, except that a plain broadcast only fails when no
 * instance took it.
 */
export function aggregateBroadcast(
  outcomes: MeshOutcome[],
  spec: CommandSpec,
  settle: boolean,
  worker: string,
  command: string,
): unknown {
  if (settle) return outcomes;
  const failed = outcomes.filter((o) => o.status === 'rejected');
  const ok = outcomes.length - failed.length;
  const tolerate = !spec.responds && !spec.queued && ok > 0;
  if (failed.length > 0 && !tolerate) {
    const first = failed[0] as Extract<MeshOutcome, { status: 'rejected' }>;
    throw new MeshError(
      MeshErrorCode.PARTIAL_FAILURE,
      `${failed.length} of ${outcomes.length} instances of '${worker}' failed '${command}' (first: ${first.error.code} ${first.error.message})`,
      { worker, command, outcomes },
    );
  }
  if (spec.responds) return outcomes.map((o) => (o as Extract<MeshOutcome, { status: 'fulfilled' }>).value);
  return spec.queued ? { queued: ok } : { delivered: ok };
}

export function asMeshError(err: unknown, worker: string, command: string): MeshError {
  if (err instanceof MeshError) return err;
  return new MeshError(MeshErrorCode.REMOTE_ERROR, err instanceof Error ? err.message : String(err), { worker, command });
}

export function encodePayload(payload: unknown, worker: string, command: string): string | undefined {
  if (payload === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `payload is not serialisable: ${(err as Error).message}`, { worker, command });
  }
  if (json === undefined) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `payload of type ${typeof payload} is not serialisable`, { worker, command });
  }
  return json;
}
