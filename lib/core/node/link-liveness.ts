import { lagTolerantTimeout } from '../connection-tracker.js';
import { DEFAULTS } from '../options/defaults.js';

/** One link's part in a liveness group. */
export interface LivenessMember {
  /** Sends a PING on this link; false when it cannot now. */
  ping(): boolean;
  /** The other process fell silent for `silentMs`: drop this link (it redials). */
  lost(silentMs: number): void;
}

/** What a link holds while it is up. */
export interface LivenessTicket {
  /** Anything arrived from the other side: it is alive. */
  heard(): void;
  leave(): void;
}

export interface LivenessTimes {
  /** ms of silence before a PING is sent. */
  interval: number;
  /** ms a PING may stay unanswered before every link of the group is dropped. */
  timeout: number;
}

/** The heartbeat a node's or a manager's options ask for, defaults filled in. */
export function livenessTimesOf(options: { heartbeatInterval?: number; heartbeatTimeout?: number }): LivenessTimes {
  return {
    interval: options.heartbeatInterval ?? DEFAULTS.heartbeatInterval,
    timeout: options.heartbeatTimeout ?? DEFAULTS.heartbeatTimeout,
  };
}

/**
 * One heartbeat for every link this process holds to one other process.
 *
 * A silent partition, a frozen host or a stopped process takes all the connections between two
 * processes at once, so one probe speaks for all of them: a process holding 1,000 links to 2
 * others sends 2 PINGs per interval, not 1,000 (engine.io's own ping, one per connection, took
 * about 45 % of a 2-core machine with 10,000 idle links: bench/README.md, "Scale"). Traffic
 * counts as an answer: a group that heard anything within `interval` sends nothing. A PING
 * unanswered for `timeout` drops every link of the group; a silent partition is therefore
 * noticed within `interval + timeout` of the last thing heard, as before.
 *
 * The other process names itself in the handshake (its PROCESS_ID, bound by the MACs); links
 * whose other side named none, each form a group of their own.
 */
class LivenessGroup {
  private readonly members = new Set<LivenessMember>();
  private lastHeard = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private cancelProbe: (() => void) | undefined;
  private rotation: Iterator<LivenessMember> | undefined;

  constructor(
    private readonly key: string,
    private readonly times: LivenessTimes,
  ) {}

  add(member: LivenessMember): LivenessTicket {
    this.members.add(member);
    // A link that just finished its handshake is news from that process.
    this.lastHeard = performance.now();
    if (!this.timer && !this.cancelProbe) this.wait(this.times.interval);
    return { heard: () => this.heard(), leave: () => this.remove(member) };
  }

  private remove(member: LivenessMember): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    this.stop();
    if (groups.get(this.key) === this) groups.delete(this.key);
  }

  private heard(): void {
    this.lastHeard = performance.now();
    if (!this.cancelProbe) return;
    this.cancelProbe();
    this.cancelProbe = undefined;
    this.wait(this.times.interval);
  }

  private wait(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    // The links keep the process up; a heartbeat alone must not.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const quiet = performance.now() - this.lastHeard;
    if (quiet < this.times.interval) return this.wait(this.times.interval - quiet);
    if (!this.pingOne()) return this.wait(this.times.interval);
    const sentAt = performance.now();
    // Lag-tolerant: a PONG that arrived while this process was busy is read before the verdict.
    this.cancelProbe = lagTolerantTimeout(this.times.timeout, () => {
      this.cancelProbe = undefined;
      if (this.lastHeard >= sentAt) return this.wait(this.times.interval);
      this.lose(performance.now() - this.lastHeard);
    });
  }

  /** PINGs the next member in turn, so no single link answers for the group every time. */
  private pingOne(): boolean {
    for (let tries = 0; tries < this.members.size; tries++) {
      let next = this.rotation?.next();
      if (!next || next.done) {
        this.rotation = this.members.values();
        next = this.rotation.next();
      }
      if (!next.done && next.value.ping()) return true;
    }
    return false;
  }

  private lose(silentMs: number): void {
    this.stop();
    if (groups.get(this.key) === this) groups.delete(this.key);
    const members = [...this.members];
    this.members.clear();
    for (const member of members) member.lost(silentMs);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.cancelProbe?.();
    this.cancelProbe = undefined;
    this.rotation = undefined;
  }
}

/**
 * engine.io's own ping on mesh links: it only ends a connection that these heartbeats did not,
 * e.g. one dead link among live ones to the same process, or a dead caller on the callee's
 * side (callers ping, callees answer). Rare, so slow: at socket.io's default period (25 s) it
 * still cost 400 pings a second across 10,000 idle links.
 */
export const MESH_LINK_BACKSTOP = { interval: 60_000, timeout: 30_000 } as const;

const groups = new Map<string, LivenessGroup>();
let unnamed = 0;

/**
 * Joins the group of the links to one process: `worker` and `host` as dialed, `proc` as the
 * other side's hello named it ('' for none: a group of its own). Only links with the same
 * times share a group.
 */
export function joinLiveness(
  remote: { worker: string; host: string; proc: string },
  times: LivenessTimes,
  member: LivenessMember,
): LivenessTicket {
  const who = remote.proc === '' ? `unnamed:${++unnamed}` : `${remote.worker}|${remote.host}|${remote.proc}`;
  const key = `${who}|${times.interval}|${times.timeout}`;
  let group = groups.get(key);
  if (!group) {
    group = new LivenessGroup(key, times);
    groups.set(key, group);
  }
  return group.add(member);
}

/** One link's place in its group, across its reconnects: in while the link is up, out while it is down. */
export class LinkHeartbeat {
  #ticket: LivenessTicket | undefined;

  constructor(
    private readonly times: LivenessTimes,
    private readonly link: LivenessMember,
  ) {}

  /** The link is up (again), to the process its handshake named. */
  join(remote: { worker: string; host: string; proc: string }): void {
    this.leave();
    this.#ticket = joinLiveness(remote, this.times, {
      ping: () => this.link.ping(),
      lost: (silentMs) => {
        this.#ticket = undefined;
        this.link.lost(silentMs);
      },
    });
  }

  heard(): void {
    this.#ticket?.heard();
  }

  leave(): void {
    this.#ticket?.leave();
    this.#ticket = undefined;
  }
}
