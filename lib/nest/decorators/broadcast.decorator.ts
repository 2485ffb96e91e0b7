import { SetMetadata } from '@nestjs/common';
import { BROADCAST_METADATA } from '../socket-mesh.constants.js';

/** Options of `@Broadcast()`. */
export interface BroadcastOptions {
  /** The command name callers use; default the method name. */
  name?: string;
  /** The caller gets an array with every instance's answer (default false). Not with `queued`. */
  responds?: boolean;
  /**
   * Each instance stores the request in its queue (Redis when configured, memory otherwise) and
   * runs its queue one request at a time, in arrival order; the caller gets `{ queued: n }` once
   * every reached instance stored it (default false). Not with `responds`.
   */
  queued?: boolean;
  /** Default timeout (ms) of calls to this command; a caller's `timeout` option wins. */
  timeout?: number;
}

/**
 * Declares a provider method a broadcast command: a call reaches every connected instance of
 * this worker. Without `responds` or `queued` the caller learns how many instances took it
 * (`{ delivered: n }`). `responds` and `queued` together refuse to start, naming the worker and
 * the command.
 */
export function Broadcast(options: BroadcastOptions = {}): MethodDecorator {
  return SetMetadata(BROADCAST_METADATA, options);
}
