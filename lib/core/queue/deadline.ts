/**
 * Bounded waiting: neither a caller's `add` nor a shutdown may hang on a handler that does not
 * return or on a connection that does not answer.
 */

/** How long `close()` waits for the running job when the caller gives no bound. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** Resolves true when `work` settles within `ms`, false when the time ran out first; never rejects. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const outcome = await raceTimer(
    work.then(
      () => true,
      () => true,
    ),
    ms,
  );
  return outcome === true;
}

/** `work`'s outcome, or a rejection with `timeoutError()` when it takes longer than `ms`. */
export async function within<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  // A late rejection of `work` has nobody left to hear it.
  work.catch(() => {});
  const outcome = await raceTimer(
    work.then((value) => ({ value })),
    ms,
  );
  if (outcome === TIMED_OUT) throw timeoutError();
  return outcome.value;
}

/** Resolves after `ms`, or at once when `cancel` is called; the timer never outlives either. */
export function cancellableDelay(ms: number): { done: Promise<void>; cancel: () => void } {
  let cancel!: () => void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cancel };
}

/** Read by shape, not `instanceof Error`: errors made by Node itself come from another realm under Jest's VM modules. */
export function errorMessage(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

const TIMED_OUT = Symbol('timed out');

async function raceTimer<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
