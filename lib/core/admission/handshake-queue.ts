/** Why a connection was not let through: over its address's pace, the queue full, or waited too long. */
export type QueueRefusal = 'rate' | 'full' | 'wait';

export interface HandshakeQueueOptions {
  /** Connections let through and not yet authenticated (or gone), at once. */
  maxActive: number;
  /** Connections waiting for a turn, in all. */
  maxQueued: number;
  /** New connections let through per second per address (a burst of this many at once). */
  perSecond: number;
  /** Longest a connection waits for its turn; past it, or when its pace alone puts it later, it is refused. */
  maxWaitMs: number;
}

interface Waiter {
  address: string;
  go(): void;
  refuse(reason: QueueRefusal): void;
  timer: NodeJS.Timeout;
}

interface Bucket {
  tokens: number;
  /** Date.now() of the last refill */
  at: number;
}

/**
 * What a port does with handshakes beyond what it can serve: they wait their turn instead of
 * being refused and retried in a storm. At most `maxActive` are let through at once (each holds
 * its turn until it proves the keys or goes), each address at its own pace (`perSecond`), and
 * the waiting ones are served round robin across addresses, so one busy address cannot starve
 * the others. Bounded: past `maxQueued` waiting, a newcomer from an address with fewer waiting
 * than the busiest one takes the busiest one's newest place (that one is refused), anyone else
 * is refused at once; a connection is also refused at once when its address's pace alone would
 * keep it waiting longer than `maxWaitMs`.
 */
export class HandshakeQueue {
  private active = 0;
  private waiting = 0;
  /** Per address, in arrival order; the map's order is the round robin (served: moved to the end). */
  private readonly queues = new Map<string, Waiter[]>();
  private readonly buckets = new Map<string, Bucket>();
  private paceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HandshakeQueueOptions) {}

  get activeCount(): number {
    return this.active;
  }

  get queuedCount(): number {
    return this.waiting;
  }

  /**
   * Asks for a turn for one connection from `address`: `go` runs (now or later) once it has one
   * (it then holds it until `release`), or `refuse` runs. Returns a function that withdraws a
   * waiting request (the connection went), doing nothing once it ran.
   */
  request(address: string, go: () => void, refuse: (reason: QueueRefusal) => void): () => void {
    const queue = this.queues.get(address);
    const bucket = this.refill(address);
    if (!queue && this.active < this.options.maxActive && bucket.tokens >= 1) {
      bucket.tokens--;
      this.active++;
      go();
      return () => {};
    }
    // Its turn at the pace alone: after everyone of its address already waiting.
    const ahead = (queue?.length ?? 0) + 1 - bucket.tokens;
    if ((ahead * 1000) / this.options.perSecond > this.options.maxWaitMs) {
      refuse('rate');
      return () => {};
    }
    if (this.waiting >= this.options.maxQueued && !this.evictFor(address)) {
      refuse('full');
      return () => {};
    }
    const waiter: Waiter = {
      address,
      go,
      refuse,
      timer: setTimeout(() => {
        if (this.remove(waiter)) refuse('wait');
      }, this.options.maxWaitMs),
    };
    waiter.timer.unref();
    if (queue) queue.push(waiter);
    else this.queues.set(address, [waiter]);
    this.waiting++;
    this.pump();
    return () => {
      if (this.remove(waiter)) this.pump();
    };
  }

  /** A turn `go` gave ends (authenticated, or the connection went): the next waiting one may go. */
  release(): void {
    this.active--;
    this.pump();
  }

  /** Lets waiting connections go while there is room, round robin over the addresses whose pace allows. */
  private pump(): void {
    let soonest = Infinity;
    while (this.active < this.options.maxActive && this.waiting > 0) {
      let served = false;
      for (const [address, queue] of this.queues) {
        const bucket = this.refill(address);
        if (bucket.tokens < 1) {
          soonest = Math.min(soonest, ((1 - bucket.tokens) * 1000) / this.options.perSecond);
          continue;
        }
        bucket.tokens--;
        const waiter = queue.shift()!;
        this.queues.delete(address);
        if (queue.length > 0) this.queues.set(address, queue); // to the end of the round
        this.waiting--;
        clearTimeout(waiter.timer);
        this.active++;
        waiter.go();
        served = true;
        break;
      }
      if (!served) break;
    }
    if (this.waiting > 0 && this.active < this.options.maxActive && soonest < Infinity && !this.paceTimer) {
      this.paceTimer = setTimeout(
        () => {
          this.paceTimer = undefined;
          this.pump();
        },
        Math.max(1, Math.ceil(soonest)),
      );
      this.paceTimer.unref();
    }
  }

  /** The queue is full: takes the newest place of the address with the most waiting, if it has more than `address`. */
  private evictFor(address: string): boolean {
    let busiest: Waiter[] | undefined;
    for (const queue of this.queues.values()) if (!busiest || queue.length > busiest.length) busiest = queue;
    const mine = this.queues.get(address)?.length ?? 0;
    if (!busiest || busiest.length <= mine + 1) return false;
    const evicted = busiest[busiest.length - 1]!;
    this.remove(evicted);
    evicted.refuse('full');
    return true;
  }

  private remove(waiter: Waiter): boolean {
    const queue = this.queues.get(waiter.address);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return false;
    queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(waiter.address);
    clearTimeout(waiter.timer);
    this.waiting--;
    return true;
  }

  /** The address's token bucket, refilled for the time since its last use; bounded in size. */
  private refill(address: string): Bucket {
    const now = Date.now();
    const { perSecond } = this.options;
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= MAX_ADDRESSES) this.prune(now);
      bucket = { tokens: perSecond, at: now };
      this.buckets.set(address, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    return bucket;
  }

  /** Forgets full buckets of addresses with nobody waiting (they start full anyway); all if still too many. */
  private prune(now: number): void {
    for (const [address, bucket] of this.buckets) {
      const full = bucket.tokens + ((now - bucket.at) * this.options.perSecond) / 1000 >= this.options.perSecond;
      if (full && !this.queues.has(address)) this.buckets.delete(address);
    }
    if (this.buckets.size >= MAX_ADDRESSES) this.buckets.clear();
  }
}

/** Addresses whose pace is remembered at once (memory bound against many source addresses). */
const MAX_ADDRESSES = 10_000;
