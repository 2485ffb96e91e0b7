import type { CallMetadata } from '../core/call-metadata.js';
import type { CommandKind } from '../core/command-spec.js';

/**
 * What `@MeshContext()` gives a mesh handler, and what guards, interceptors and filters find as
 * the second argument (`context.switchToRpc().getContext()`); the first is the payload
 * (`getData()`).
 */
export interface MeshHandlerContext {
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

/**
 * What `@Inject(REQUEST)` gives a request-scoped provider while it serves one mesh call: the
 * handler context with the payload. One object per call (or, under a durable
 * `ContextIdStrategy`, what the strategy's payload says).
 */
export interface MeshRequest<P = unknown> extends MeshHandlerContext {
  payload: P;
}
