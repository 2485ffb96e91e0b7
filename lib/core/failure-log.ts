import type { MeshLogger } from './logger.js';

/** After the first line, a repeating failure is logged again once this long (ms) into the outage, then every last step. */
export const FAILURE_LOG_STEPS_MS = [10_000, 60_000, 600_000, 3_600_000] as const;

export interface FailureLogOptions {
  /** Level of the lines while it fails (default 'warn'). */
  level?: 'warn' | 'error';
  /** Milestones into the outage at which it is logged again (ms); default FAILURE_LOG_STEPS_MS. */
  steps?: readonly number[];
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The log of something that fails over and over (a manager or peer that cannot be reached): a
 * line when it starts failing, again at rising intervals while it goes on (10 s, 60 s, 10 min,
 * then hourly into the outage), and one when it works again, with the count and the duration.
 * The attempts in between go to DEBUG, so an hour-long outage writes a handful of lines.
 */
export class FailureLog {
  private attempts = 0;
  private since = 0;
  private nextStep = 0;
  private readonly steps: readonly number[];
  private readonly now: () => number;

  constructor(
    private readonly logger: MeshLogger,
    private readonly options: FailureLogOptions = {},
  ) {
    this.steps = options.steps ?? FAILURE_LOG_STEPS_MS;
    this.now = options.now ?? Date.now;
  }

  /** True while failing (since the last success). */
  get failing(): boolean {
    return this.attempts > 0;
  }

  /** One failed attempt; `level` overrides the default for this line (a refusal is an error). */
  failed(message: string, level: 'warn' | 'error' = this.options.level ?? 'warn'): void {
    const now = this.now();
    if (this.attempts++ === 0) {
      this.since = now;
      this.nextStep = 0;
      this.logger[level](message);
      return;
    }
    const elapsed = now - this.since;
    if (elapsed >= this.milestone(this.nextStep)) {
      while (elapsed >= this.milestone(this.nextStep)) this.nextStep++;
      this.logger[level](`still failing after ${this.attempts} attempts / ${formatDuration(elapsed)}: ${message}`);
    } else {
      this.logger.debug(message);
    }
  }

  /** It worked: logs `<what> again after N attempts / 12 s` when it had failed; forgets the outage. */
  succeeded(what: string): void {
    if (this.attempts === 0) return;
    const elapsed = this.now() - this.since;
    this.logger.info(
      `${what} again after ${this.attempts} failed attempt${this.attempts === 1 ? '' : 's'} / ${formatDuration(elapsed)}`,
    );
    this.attempts = 0;
  }

  /** ms into the outage of milestone `i`; past the list, every last step again. */
  private milestone(i: number): number {
    const last = this.steps.length - 1;
    if (i <= last) return this.steps[i]!;
    return this.steps[last]! * (i - last + 1);
  }
}

/** 850 ms, 12 s, 3 min 20 s, 1 h 5 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/**
 * What a peer link says while it cannot get through: connect failures through a FailureLog,
 * handshake failures once per outage (at error: usually other keys), and nothing beyond debug
 * once the peer announced it leaves.
 */
export class LinkFailures {
  private authFailures = 0;
  private readonly connects: FailureLog;
  /** The peer announced it leaves: failing to reach it afterwards is expected, not news. */
  left = false;

  constructor(
    private readonly logger: MeshLogger,
    private readonly label: () => string,
  ) {
    this.connects = new FailureLog(logger);
  }

  connectFailed(why: string): void {
    const message = `link to ${this.label()} failed to connect: ${why}`;
    if (this.left) this.logger.debug(message);
    else this.connects.failed(message);
  }

  authFailed(message: string): void {
    if (this.authFailures++ === 0) this.logger.error(`link to ${this.label()}: ${message}`);
  }

  /** The link is up: the next outage is news again. */
  up(): void {
    this.authFailures = 0;
    this.left = false;
    this.connects.succeeded(`link to ${this.label()} up`);
  }
}
