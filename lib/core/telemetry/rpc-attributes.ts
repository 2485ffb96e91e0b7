import type { Attributes } from '@opentelemetry/api';
import { MeshError, MeshErrorCode } from '../errors.js';

/** `rpc.system` of every span and metric point socket-mesh records. */
export const RPC_SYSTEM = 'socket-mesh';
/** The metric attribute holding a call's outcome: 'OK' or a MeshErrorCode. */
export const OUTCOME = 'socket_mesh.outcome';
export const ERROR_CODE = 'socket_mesh.error_code';
export const VARIANT = 'socket_mesh.variant';

export function rpcAttributes(worker: string, command: string): Attributes {
  return { 'rpc.system': RPC_SYSTEM, 'rpc.service': worker, 'rpc.method': command };
}

/** The code a failure is recorded under: its MeshErrorCode, MESH_REMOTE_ERROR for anything else. */
export function outcomeCode(err: unknown): string {
  return err instanceof MeshError ? err.code : MeshErrorCode.REMOTE_ERROR;
}
