import type { EventEmitter } from 'node:events';
import type { MeshLogger } from '../logger.js';

/**
 * Calls every listener of `event` like `emit` does, but a listener that throws or rejects is
 * logged with its stack instead of unwinding into the caller (a registration must not be
 * refused because user code failed).
 */
export function notifyListeners(emitter: EventEmitter, event: string, args: unknown[], logger: MeshLogger, owner: string): void {
  const failed = (err: unknown) =>
    logger.error(
      `a '${event}' listener of the ${owner} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  // rawListeners: calling a once() wrapper also removes it, as emit does.
  for (const listener of emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[]) {
    try {
      const result = listener.apply(emitter, args);
      if (result instanceof Promise) result.catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}
