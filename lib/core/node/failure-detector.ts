/** When an instance leaves balanced rotation and how it comes back. */
export interface FailureDetectorOptions {
  /** Consecutive MESH_TIMEOUTs that take an instance out of rotation (default 2). */
  threshold?: number;
  /** How long it stays out before one probe call is let through, ms (default 2000). */
  coolDown?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Breaker {
  failures: number;
  /** Set while open: when the next probe may go. */
  openUntil?: number;
  /** A probe call is in flight: nobody else goes until it answers. */
  probing: boolean;
}

/**
 * A circuit breaker per instance for balanced rotation. A link can stay up while its instance
 * answers nothing (a hung handler, a stopped process before the heartbeat notices): after
 * `threshold` timeouts in a row it is passed over; after `coolDown` a single probe call goes to
 * it (half-open); an answer closes the breaker, another timeout opens it for a new cool-down.
 * So a lost instance costs the calls already in flight plus one probe per cool-down.
 */
export class FailureDetector {
  private readonly breakers = new Map<string, Breaker>();
  private readonly threshold: number;
  private readonly coolDown: number;
  private readonly now: () => number;

  constructor(options: FailureDetectorOptions = {}) {
    this.threshold = options.threshold ?? 2;
    this.coolDown = options.coolDown ?? 2000;
    this.now = options.now ?? Date.now;
  }

  /** Whether `variant` is out of rotation (open, or half-open with its probe taken). */
  isOpen(variant: string): boolean {
    const b = this.breakers.get(variant);
    if (!b || b.openUntil === undefined) return false;
    return b.probing || this.now() < b.openUntil;
  }

  /**
   * May a call go to `variant` now? True for a closed breaker; for an open one whose cool-down
   * is over, true once (that call is the probe) and false for the others until it answers.
   */
  admit(variant: string): boolean {
    const b = this.breakers.get(variant);
    if (!b || b.openUntil === undefined) return true;
    if (b.probing || this.now() < b.openUntil) return false;
    b.probing = true;
    return true;
  }

  /** The instance answered (a result or an application error): back in rotation. */
  success(variant: string): void {
    this.breakers.delete(variant);
  }

  /** The instance did not answer in time. */
  timeout(variant: string): void {
    let b = this.breakers.get(variant);
    if (!b) this.breakers.set(variant, (b = { failures: 0, probing: false }));
    b.failures++;
    if (b.probing || b.failures >= this.threshold) {
      b.openUntil = this.now() + this.coolDown;
      b.probing = false;
    }
  }

  /** A call that neither answered nor timed out (disconnected, refused): a probe slot is freed. */
  inconclusive(variant: string): void {
    const b = this.breakers.get(variant);
    if (b?.probing) b.probing = false;
  }

  /** Forget `variant` (its link was replaced or reconnected: a new connection starts closed). */
  reset(variant: string): void {
    this.breakers.delete(variant);
  }

  /** Instances currently out of rotation. */
  openCount(): number {
    let n = 0;
    for (const variant of this.breakers.keys()) if (this.isOpen(variant)) n++;
    return n;
  }
}
