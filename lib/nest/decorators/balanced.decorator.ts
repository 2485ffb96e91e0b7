import { SetMetadata } from '@nestjs/common';
import { BALANCED_METADATA } from '../socket-mesh.constants.js';

/** Options of `@Balanced()`. */
export interface BalancedOptions {
  /** The command name callers use; default the method name. */
  name?: string;
  /** Default timeout (ms) of calls to this command; a caller's `timeout` option wins. Default: the caller worker's `timeout`. */
  timeout?: number;
  /**
   * How often a caller retries on another instance after MESH_PEER_DISCONNECTED or MESH_NO_PEER
   * (default 0). Only for idempotent commands: the first instance may have run it.
   */
  retries?: number;
}

/**
 * Declares a provider method a balanced command: each call goes to exactly one instance of
 * this worker, round-robin, and always answers with the method's value (a Promise or an
 * Observable's first value is awaited). Options are checked when the app starts.
 */
export function Balanced(options: BalancedOptions = {}): MethodDecorator {
  return SetMetadata(BALANCED_METADATA, options);
}
