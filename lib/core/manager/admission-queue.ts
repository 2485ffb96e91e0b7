import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Longest a registration waits for its turn before it is refused. A worker waits this long,
 * plus its own handshake timeout, for the manager's HELLO (manager-link.ts).
 */
export const ADMISSION_MAX_WAIT_MS = 30_000;

/**
 * Paces registrations per remote address instead of refusing a burst: up to `perSecond` at
 * once, then one every 1/perSecond s, each connection waiting its turn (it is already
 * connected and simply gets its HELLO later). Only a connection whose turn would come later
 * than `maxWaitMs` from now, or one beyond `maxWaiting` waiting in all, is refused: a fleet
 * restarting together queues instead of retrying in a storm.
 */
export class AdmissionQueue {
  private readonly next = new Map<string, number>();
  private readonly interval: number;
  private waiting = 0;

  constructor(
    perSecond: number,
    private readonly maxWaitMs = ADMISSION_MAX_WAIT_MS,
    private readonly maxWaiting = 10_000,
    private readonly maxKeys = 10_000,
  ) {
    this.interval = 1000 / perSecond;
  }

  /** Connections waiting for their turn now. */
  get queued(): number {
    return this.waiting;
  }

  /** The wait before `key`'s next admission, ms (0: now), reserving that turn; undefined: refused. */
  reserve(key: string): number | undefined {
    const now = Date.now();
    // A second's worth of credit: a burst up to perSecond goes through at once.
    const base = Math.max(this.next.get(key) ?? 0, now - 1000);
    const slot = base + this.interval;
    const wait = Math.max(0, Math.ceil(slot - now));
    if (wait > 0 && (wait > this.maxWaitMs || this.waiting >= this.maxWaiting)) return undefined;
    if (this.next.size >= this.maxKeys && !this.next.has(key)) this.prune(now);
    this.next.set(key, slot);
    return wait;
  }

  /** Resolves true once `key` may go on, false when it is refused (queue full); `gone()` true: stop waiting. */
  async admit(key: string, gone: () => boolean = () => false): Promise<boolean> {
    const wait = this.reserve(key);
    if (wait === undefined) return false;
    return wait === 0 || this.wait(wait, gone);
  }

  /** Waits a turn `reserve` gave; false when `gone()` says the connection left meanwhile. */
  async wait(ms: number, gone: () => boolean = () => false): Promise<boolean> {
    this.waiting++;
    try {
      await sleep(ms, undefined, { ref: false });
    } finally {
      this.waiting--;
    }
    return !gone();
  }

  private prune(now: number): void {
    for (const [key, slot] of this.next) if (slot < now - 1000) this.next.delete(key);
    if (this.next.size >= this.maxKeys) this.next.clear();
  }
}
