/**
 * The backoff of a link's own redials (those socket.io-client does not make: after a refusal,
 * a drain, a failed discovery): one redial pending at a time, after a delay that doubles per
 * failure up to a cap, jittered ±25 % so that links dropped together do not come back together.
 */
export class Redial {
  #delay: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.#delay = minMs;
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs `redial` after the current delay, unless one is already pending. */
  schedule(redial: () => void): void {
    if (this.#timer) return;
    const delay = this.#delay * (0.75 + Math.random() * 0.5);
    this.#delay = Math.min(this.#delay * 2, this.maxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      redial();
    }, delay);
  }

  /** The link is up: the next outage starts from the shortest delay. */
  reset(): void {
    this.#delay = this.minMs;
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
