/**
 * Type tests (compiled by `npm run build:all`, never run): what both fronts share, as users
 * import it from 'socket-mesh' and 'socket-mesh/plain'. See README.md beside this file.
 */
import { expectTypeOf } from 'expect-type';
import * as nest from '../../lib/index.js';
import {
  MeshError,
  MeshErrorCode,
  type CallOptions,
  type LogLevel,
  type MeshEventPayload,
  type MeshLogger,
  type MeshOutcome,
  type PeerDescriptor,
} from '../../lib/plain.js';

// ---- the entry points: 'socket-mesh' re-exports every name of 'socket-mesh/plain' ----------
expectTypeOf(nest.MeshError).toEqualTypeOf(MeshError);
expectTypeOf(nest.MeshErrorCode).toEqualTypeOf(MeshErrorCode);
expectTypeOf(nest.SocketNode).toEqualTypeOf<typeof import('../../lib/plain.js').SocketNode>();
expectTypeOf(nest.Manager).toEqualTypeOf<typeof import('../../lib/plain.js').Manager>();

// ---- MeshErrorCode: every documented code keeps its name and its string value ----------------
expectTypeOf(MeshErrorCode.TIMEOUT).toEqualTypeOf<'MESH_TIMEOUT'>();
expectTypeOf(MeshErrorCode.NO_PEER).toEqualTypeOf<'MESH_NO_PEER'>();
expectTypeOf(MeshErrorCode.ACCESS_DENIED).toEqualTypeOf<'MESH_ACCESS_DENIED'>();
expectTypeOf(MeshErrorCode.UNKNOWN_COMMAND).toEqualTypeOf<'MESH_UNKNOWN_COMMAND'>();
expectTypeOf(MeshErrorCode.PEER_DISCONNECTED).toEqualTypeOf<'MESH_PEER_DISCONNECTED'>();
expectTypeOf(MeshErrorCode.REMOTE_ERROR).toEqualTypeOf<'MESH_REMOTE_ERROR'>();
expectTypeOf(MeshErrorCode.BAD_REQUEST).toEqualTypeOf<'MESH_BAD_REQUEST'>();
expectTypeOf(MeshErrorCode.AUTH_FAILED).toEqualTypeOf<'MESH_AUTH_FAILED'>();
expectTypeOf(MeshErrorCode.PARTIAL_FAILURE).toEqualTypeOf<'MESH_PARTIAL_FAILURE'>();
expectTypeOf(MeshErrorCode.OVERLOADED).toEqualTypeOf<'MESH_OVERLOADED'>();
expectTypeOf(MeshErrorCode.QUEUE_FULL).toEqualTypeOf<'MESH_QUEUE_FULL'>();
expectTypeOf(MeshErrorCode.QUEUE_UNAVAILABLE).toEqualTypeOf<'MESH_QUEUE_UNAVAILABLE'>();
expectTypeOf(MeshErrorCode.NOT_SUPPORTED).toEqualTypeOf<'MESH_NOT_SUPPORTED'>();
expectTypeOf(MeshErrorCode.SCHEMA_INVALID).toEqualTypeOf<'MESH_SCHEMA_INVALID'>();
expectTypeOf(MeshErrorCode.CLOSED).toEqualTypeOf<'MESH_CLOSED'>();
// The type of the same name is the union of the values (a new code may be added to it).
expectTypeOf<(typeof MeshErrorCode)[keyof typeof MeshErrorCode]>().toEqualTypeOf<MeshErrorCode>();
// @ts-expect-error a code is one of the listed strings, not any string
const _notACode: MeshErrorCode = 'MESH_WHATEVER';

// ---- MeshError: an Error with a readonly code and the documented details ---------------------
declare const err: MeshError;
expectTypeOf(err).toExtend<Error>();
expectTypeOf(err.code).toEqualTypeOf<MeshErrorCode>();
expectTypeOf(err.worker).toEqualTypeOf<string | undefined>();
expectTypeOf(err.variant).toEqualTypeOf<string | undefined>();
expectTypeOf(err.command).toEqualTypeOf<string | undefined>();
expectTypeOf(err.remoteName).toEqualTypeOf<string | undefined>();
expectTypeOf(err.status).toEqualTypeOf<number | undefined>();
expectTypeOf(err.response).toEqualTypeOf<unknown>();
expectTypeOf(err.outcomes).toEqualTypeOf<MeshOutcome[] | undefined>();
expectTypeOf(MeshError).toBeConstructibleWith(MeshErrorCode.TIMEOUT, 'late');
expectTypeOf(MeshError).toBeConstructibleWith(MeshErrorCode.REMOTE_ERROR, 'boom', { worker: 'B', status: 500, response: {} });
// @ts-expect-error the code is typed
new MeshError('TIMEOUT', 'late');
// @ts-expect-error switching on `code` is the contract: it cannot be reassigned
err.code = MeshErrorCode.TIMEOUT;

// ---- MeshOutcome: the discriminated union `settle: true` returns -----------------------------
declare const outcome: MeshOutcome<{ pid: number }>;
if (outcome.status === 'fulfilled') expectTypeOf(outcome.value).toEqualTypeOf<{ pid: number }>();
else expectTypeOf(outcome.error).toEqualTypeOf<MeshError>();
expectTypeOf(outcome.worker).toEqualTypeOf<string>();
expectTypeOf(outcome.variant).toEqualTypeOf<string>();

// ---- CallOptions: every field optional; what compiles today keeps compiling ------------------
expectTypeOf({}).toExtend<CallOptions>();
expectTypeOf({
  timeout: 1000,
  only: 'b1',
  exclude: ['b2', 'b3'] as readonly string[],
  settle: true,
  retries: 2,
}).toExtend<CallOptions>();
expectTypeOf({ only: ['b1'], exclude: 'b2' }).toExtend<CallOptions>();
// @ts-expect-error timeout is a number of ms
const _badTimeout: CallOptions = { timeout: '1s' };

// ---- PeerDescriptor, MeshEventPayload --------------------------------------------------------
expectTypeOf<PeerDescriptor>().toHaveProperty('worker').toEqualTypeOf<string>();
expectTypeOf<PeerDescriptor>().toHaveProperty('variant').toEqualTypeOf<string>();
expectTypeOf<PeerDescriptor>().toHaveProperty('host').toEqualTypeOf<string>();
expectTypeOf<PeerDescriptor>().toHaveProperty('port').toEqualTypeOf<number>();
expectTypeOf<MeshEventPayload>().toHaveProperty('worker').toEqualTypeOf<string>();
expectTypeOf<MeshEventPayload>().toHaveProperty('variant').toEqualTypeOf<string>();
expectTypeOf<MeshEventPayload['direction']>().toEqualTypeOf<'outgoing' | 'incoming' | undefined>();

// ---- logger types ------------------------------------------------------------------------------
expectTypeOf<'info'>().toExtend<LogLevel>();
expectTypeOf<'error'>().toExtend<LogLevel>();
expectTypeOf(console).toExtend<MeshLogger>();
