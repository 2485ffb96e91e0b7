import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { joinLiveness, type LivenessTicket } from '../../lib/core/node/link-liveness.js';

const TIMES = { interval: 40, timeout: 60 };

/** A link as the group sees it: counts its PINGs, answers them or not, records its loss. */
class FakeLink extends EventEmitter {
  pings = 0;
  answering = true;
  lostAfter: number | undefined;
  ticket!: LivenessTicket;

  ping(): boolean {
    this.pings++;
    this.emit('ping');
    // The answer comes back over the network: later, never inside ping().
    if (this.answering) setImmediate(() => this.ticket.heard());
    return true;
  }

  lost(silentMs: number): void {
    this.lostAfter = silentMs;
    this.emit('lost');
  }
}

let proc = 0;
const tickets: LivenessTicket[] = [];

/** `n` links to one (fake) process; every test gets a process of its own. */
function linksToOneProcess(n: number, times = TIMES): FakeLink[] {
  const remote = { worker: 'NodeB', host: '127.0.0.1', proc: (++proc).toString(16).padStart(16, '0') };
  return Array.from({ length: n }, () => {
    const link = new FakeLink();
    link.ticket = joinLiveness(remote, times, link);
    tickets.push(link.ticket);
    return link;
  });
}

/** Resolves with the event's arguments; rejects after `ms` (a deadline, not a sleep). */
function within<T extends unknown[]>(ms: number, emitter: EventEmitter, event: string): Promise<T> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) }) as Promise<T>;
}

afterEach(() => {
  for (const ticket of tickets.splice(0)) ticket.leave();
});

describe('one heartbeat for the links to one process', () => {
  it('an idle group sends one PING per interval in all, taking its links in turn', async () => {
    const links = linksToOneProcess(3);
    const counter = new EventEmitter();
    let total = 0;
    for (const link of links) link.on('ping', () => ++total === 6 && counter.emit('six'));
    await within(2000, counter, 'six');
    // Six intervals' PINGs, spread over the three links rather than six per interval each.
    expect(links.map((l) => l.pings)).toEqual([2, 2, 2]);
  });

  it('traffic counts as an answer: a group that keeps hearing from its process sends no PING', async () => {
    const [link] = linksToOneProcess(1);
    const traffic = new EventEmitter();
    let ticks = 0;
    // Something arrives every 5 ms; 40 of them span five intervals.
    const timer = setInterval(() => {
      link!.ticket.heard();
      if (++ticks === 40) traffic.emit('spanned');
    }, 5);
    await within(2000, traffic, 'spanned');
    clearInterval(timer);
    expect(link!.pings).toBe(0);
    await within(2000, link!, 'ping');
  });

  it('a PING left unanswered drops every link of the group, within interval + timeout of the last answer', async () => {
    const links = linksToOneProcess(4);
    for (const link of links) link.answering = false;
    const start = performance.now();
    await Promise.all(links.map((link) => within(2000, link, 'lost')));
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(TIMES.interval + TIMES.timeout - 5);
    expect(links.every((l) => (l.lostAfter ?? 0) >= TIMES.interval + TIMES.timeout - 5)).toBe(true);
    expect(links.reduce((sum, l) => sum + l.pings, 0)).toBe(1);
  });

  it('links to another process, or with other times, have a heartbeat of their own', async () => {
    const [a] = linksToOneProcess(1);
    const [b] = linksToOneProcess(1);
    const [c] = linksToOneProcess(1, { interval: 30, timeout: 60 });
    await Promise.all([a, b, c].map((link) => within(2000, link!, 'ping')));
    expect([a!.pings, b!.pings, c!.pings].every((n) => n >= 1)).toBe(true);
  });

  it('a link whose process named none is a group of its own', async () => {
    const remote = { worker: 'NodeB', host: '127.0.0.1', proc: '' };
    const links = [new FakeLink(), new FakeLink()];
    for (const link of links) {
      link.ticket = joinLiveness(remote, TIMES, link);
      tickets.push(link.ticket);
    }
    await Promise.all(links.map((link) => within(2000, link, 'ping')));
    expect(links.every((l) => l.pings >= 1)).toBe(true);
  });

  it('a group whose links all left stops its timers (nothing keeps pinging)', async () => {
    const links = linksToOneProcess(2);
    for (const link of links) link.ticket.leave();
    // A group of another process, as the clock: its third PING means three intervals passed.
    const [clock] = linksToOneProcess(1);
    const counter = new EventEmitter();
    clock!.on('ping', () => clock!.pings === 3 && counter.emit('third'));
    await within(2000, counter, 'third');
    expect(links.map((l) => l.pings)).toEqual([0, 0]);
  });
});
