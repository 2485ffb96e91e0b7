/**
 * One timer for the deadlines of every call in flight on a link, instead of a setTimeout per
 * call: at one call at a time, creating, inserting and clearing a timer per call was a
 * measurable part of the caller's CPU (bench/README.md). The timer is armed for the earliest
 * deadline; a call answered in time leaves it armed, and when it fires it expires what is
 * due and re-arms for the next deadline. While nothing is in flight it does not hold the
 * process open.
 */
export class CallDeadlines {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() ms); Infinity when none is armed. */
  private armedFor = Infinity;

  /** `expire(now)` fails every call whose deadline is <= now and returns the earliest deadline left (Infinity: none). */
  constructor(private readonly expire: (now: number) => number) {}

  /** A call due at `deadline` (performance.now() ms) is now in flight. */
  add(deadline: number): void {
    if (deadline < this.armedFor) return this.arm(deadline);
    this.timer!.ref();
  }

  /** Nothing is in flight any more: the armed timer must not keep the process alive. */
  idle(): void {
    this.timer?.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(this.fire, Math.max(0, deadline - performance.now()));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const next = this.expire(performance.now());
    if (next !== Infinity) this.arm(next);
  };
}
