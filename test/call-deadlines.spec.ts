import { describe, expect, it } from '@jest/globals';
import { CallDeadlines } from '../lib/core/call-deadlines.js';

/** A tiny model of a link's calls in flight over CallDeadlines, as PeerLink uses it. */
function link() {
  const pending = new Map<string, { deadline: number; expired: (at: number) => void }>();
  const deadlines = new CallDeadlines((now) => {
    let next = Infinity;
    for (const [id, call] of pending) {
      if (call.deadline <= now) {
        pending.delete(id);
        call.expired(now);
      } else next = Math.min(next, call.deadline);
    }
    if (pending.size === 0) deadlines.idle();
    return next;
  });
  return {
    pending,
    deadlines,
    call(id: string, timeoutMs: number): { started: number; expiredAt: Promise<number> } {
      const started = performance.now();
      let expired!: (at: number) => void;
      const expiredAt = new Promise<number>((resolve) => (expired = resolve));
      pending.set(id, { deadline: started + timeoutMs, expired });
      deadlines.add(started + timeoutMs);
      return { started, expiredAt };
    },
    answer(id: string) {
      pending.delete(id);
      if (pending.size === 0) deadlines.idle();
    },
  };
}

const refTimers = () => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;

describe('CallDeadlines', () => {
  it('expires a call at its deadline, not before', async () => {
    const l = link();
    const { started, expiredAt } = l.call('a', 60);
    expect((await expiredAt) - started).toBeGreaterThanOrEqual(60);
    expect(l.pending.size).toBe(0);
    l.deadlines.stop();
  });

  it('a shorter timeout after a longer one still expires first; the longer one later', async () => {
    const l = link();
    const long = l.call('long', 300);
    const short = l.call('short', 40);
    const shortAt = await short.expiredAt;
    expect(shortAt - short.started).toBeGreaterThanOrEqual(40);
    expect(l.pending.has('long')).toBe(true);
    expect((await long.expiredAt) - long.started).toBeGreaterThanOrEqual(300);
    l.deadlines.stop();
  });

  it('answered calls do not expire, and later calls still get their deadline', async () => {
    const l = link();
    const expired: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { expiredAt } = l.call(`c${i}`, 50);
      void expiredAt.then(() => expired.push(`c${i}`));
      l.answer(`c${i}`);
    }
    const last = l.call('last', 80);
    expect((await last.expiredAt) - last.started).toBeGreaterThanOrEqual(80);
    expect(expired).toEqual([]);
    l.deadlines.stop();
  });

  it('holds the process open only while a call is in flight', () => {
    const l = link();
    const before = refTimers();
    l.call('a', 10_000);
    expect(refTimers()).toBe(before + 1);
    l.answer('a');
    expect(refTimers()).toBe(before);
    l.call('b', 10_000);
    expect(refTimers()).toBe(before + 1);
    l.deadlines.stop();
    expect(refTimers()).toBe(before);
  });
});
