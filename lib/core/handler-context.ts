import type { CallContext, CallMetadata } from './call-metadata.js';
import type { CommandKind } from './command-spec.js';

/**
 * The second argument of a plain API command method, the same shape as the Nest module's
 * `@MeshContext()`: which command runs here, and who called it with what metadata.
 */
export interface MeshCallContext {
  /** This worker's name. */
  worker: string;
  /** The command being run. */
  command: string;
  kind: CommandKind;
  /**
   * The calling instance, as the handshake proved it. Queued commands run later from the
   * queue, which stores only the payload: there it is `{ worker: '', variant: '' }`.
   */
  caller: { worker: string; variant: string };
  /** The caller's `CallOptions.metadata` (`{}` when none; always `{}` for queued commands). */
  metadata: Readonly<CallMetadata>;
}

const QUEUED_CALLER = Object.freeze({ worker: '', variant: '' });
const NO_METADATA: Readonly<CallMetadata> = Object.freeze({});

/** The context a handler gets for one request; `call` is undefined for a job run from a queue. */
export function handlerContext(
  worker: string,
  command: string,
  kind: CommandKind,
  call: CallContext | undefined,
): MeshCallContext {
  return { worker, command, kind, caller: call?.caller ?? QUEUED_CALLER, metadata: call?.metadata ?? NO_METADATA };
}
