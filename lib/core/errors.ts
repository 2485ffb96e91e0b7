/** Stable error codes: every failure that reaches a caller carries one of these. */
export const MeshErrorCode = {
  TIMEOUT: 'MESH_TIMEOUT',
  NO_PEER: 'MESH_NO_PEER',
  ACCESS_DENIED: 'MESH_ACCESS_DENIED',
  UNKNOWN_COMMAND: 'MESH_UNKNOWN_COMMAND',
  PEER_DISCONNECTED: 'MESH_PEER_DISCONNECTED',
  REMOTE_ERROR: 'MESH_REMOTE_ERROR',
  BAD_REQUEST: 'MESH_BAD_REQUEST',
  AUTH_FAILED: 'MESH_AUTH_FAILED',
  PARTIAL_FAILURE: 'MESH_PARTIAL_FAILURE',
  OVERLOADED: 'MESH_OVERLOADED',
  QUEUE_FULL: 'MESH_QUEUE_FULL',
  QUEUE_UNAVAILABLE: 'MESH_QUEUE_UNAVAILABLE',
  NOT_SUPPORTED: 'MESH_NOT_SUPPORTED',
  SCHEMA_INVALID: 'MESH_SCHEMA_INVALID',
  CLOSED: 'MESH_CLOSED',
} as const;

export type MeshErrorCode = (typeof MeshErrorCode)[keyof typeof MeshErrorCode];

/** One instance's result in a broadcast: what `settle: true` returns and MESH_PARTIAL_FAILURE holds. */
export type MeshOutcome<T = unknown> =
  | { worker: string; variant: string; status: 'fulfilled'; value: T }
  | { worker: string; variant: string; status: 'rejected'; error: MeshError };

export interface MeshErrorDetails {
  /** The worker name the call was addressed to. */
  worker?: string;
  /** The instance that failed, when one was chosen. */
  variant?: string;
  command?: string;
  /** For MESH_REMOTE_ERROR: the remote error's `name`. */
  remoteName?: string;
  /** For MESH_REMOTE_ERROR from a Nest HttpException (or any error with a numeric `status`). */
  status?: number;
  /** For MESH_REMOTE_ERROR: the remote error's `response` body when it had one (HttpException). */
  response?: unknown;
  /** For MESH_PARTIAL_FAILURE: every instance's outcome. */
  outcomes?: MeshOutcome[];
}

/** The only error type a caller sees from the mesh. Switch on `code`, never on `message`. */
export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly worker?: string;
  readonly variant?: string;
  readonly command?: string;
  readonly remoteName?: string;
  readonly status?: number;
  readonly response?: unknown;
  readonly outcomes?: MeshOutcome[];

  constructor(
    readonly code: MeshErrorCode,
    message: string,
    details: MeshErrorDetails = {},
  ) {
    super(message);
    this.worker = details.worker;
    this.variant = details.variant;
    this.command = details.command;
    this.remoteName = details.remoteName;
    this.status = details.status;
    this.response = details.response;
    this.outcomes = details.outcomes;
  }

  /** The wire form; the receiving side rebuilds a MeshError from it. */
  toJSON(): SerializedMeshError {
    const out: SerializedMeshError = { code: this.code, message: this.message };
    if (this.remoteName !== undefined) out.remoteName = this.remoteName;
    if (this.status !== undefined) out.status = this.status;
    if (this.response !== undefined) out.response = this.response;
    return out;
  }
}

export interface SerializedMeshError {
  code: MeshErrorCode;
  message: string;
  remoteName?: string;
  status?: number;
  response?: unknown;
}
