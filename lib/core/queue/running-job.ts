/** The job the handler has, from the moment it gets it until BullMQ has recorded the outcome. */
export interface RunningJob {
  jobId: string | undefined;
  handlerDone: boolean;
  /** Shutdown could wait no longer: stop waiting for the handler and hand the job back. */
  abandon: () => void;
  /** Resolves once the outcome is in Redis (completed, failed, or handed back). */
  recorded: Promise<void>;
  markRecorded: () => void;
  /** Resolves when `abandon` is called. */
  abandoned: Promise<'abandoned'>;
}

export function runningJob(jobId: string | undefined): RunningJob {
  let markRecorded = (): void => {};
  const recorded = new Promise<void>((resolve) => {
    markRecorded = resolve;
  });
  let abandon = (): void => {};
  const abandoned = new Promise<'abandoned'>((resolve) => {
    abandon = () => resolve('abandoned');
  });
  return { jobId, handlerDone: false, abandon, recorded, markRecorded, abandoned };
}

export type HandlerOutcome = 'done' | 'abandoned' | { err: unknown };

/**
 * Runs one request's handler for `running`. A synchronous handler's outcome is known at once: no
 * promise and no microtask turns per request. An async one races shutdown's `abandon`.
 */
export function runHandler(run: () => unknown, running: RunningJob): HandlerOutcome | Promise<HandlerOutcome> {
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    return { err };
  }
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return 'done';
  return Promise.race([
    Promise.resolve(result).then(
      () => 'done' as const,
      (err: unknown) => ({ err }),
    ),
    running.abandoned,
  ]);
}
