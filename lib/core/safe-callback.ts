import type { MeshLogger } from './logger.js';
import { describeError } from './names.js';

/**
 * Runs a user callback or event handler so that it can never end the process: a throw, or
 * the rejection of the promise (thenable) it returns, goes to `failed` instead.
 */
export function callSafely(run: () => unknown, failed: (err: unknown) => void): void {
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    failed(err);
    return;
  }
  if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
    Promise.resolve(result as PromiseLike<unknown>).then(undefined, failed);
  }
}

/** `failed` for callSafely with a MeshLogger: one error line with what failed, the message and the stack. */
export function logCallbackFailure(logger: MeshLogger, label: string): (err: unknown) => void {
  return (err) => {
    const stack = err instanceof Error && err.stack ? `\n${err.stack}` : '';
    logger.error(`${label} failed: ${describeError(err)}${stack}`);
  };
}
