import type { LinkReport } from '../protocol.js';

/** At most one report per this many ms per worker: a flapping link costs the manager little. */
export const LINK_REPORT_INTERVAL_MS = 250;

/**
 * Tells the manager which peers this worker is linked to, after a link came up or went down:
 * never per call. Changes close together become one report (the first at the next timer turn,
 * the next no sooner than LINK_REPORT_INTERVAL_MS after it), taken from the links as they are
 * when it leaves.
 */
export class LinkReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private closed = false;

  constructor(
    private readonly snapshot: () => LinkReport,
    private readonly send: (report: LinkReport) => void,
    private readonly interval = LINK_REPORT_INTERVAL_MS,
  ) {}

  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.lastSent = Date.now();
        this.send(this.snapshot());
      },
      Math.max(0, this.lastSent + this.interval - Date.now()),
    );
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
