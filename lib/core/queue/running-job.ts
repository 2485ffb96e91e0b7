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
