import { describe, expect, it } from '@jest/globals';
import { HandshakeQueue, type QueueRefusal } from '../../lib/core/admission/handshake-queue.js';
import { waitFor } from '../support/wait-for.js';

/** Records what happened to each request: 'go', a refusal, or nothing yet. */
function track(q: HandshakeQueue) {
  const outcomes: (string | undefined)[] = [];
  const ask = (address: string) => {
    const i = outcomes.push(undefined) - 1;
    const withdraw = q.request(
      address,
      () => (outcomes[i] = 'go'),
      (reason: QueueRefusal) => (outcomes[i] = reason),
    );
    return { i, withdraw };
  };
  return { outcomes, ask };
}

describe('HandshakeQueue (connections before the proof, per port)', () => {
  it('past maxActive, connections wait (not refused) and go in turn as turns are released', () => {
    const q = new HandshakeQueue({ maxActive: 2, maxQueued: 4, perSecond: 1000, maxWaitMs: 5000 });
    const { outcomes, ask } = track(q);
    for (let n = 0; n < 4; n++) ask('a');
    expect(outcomes).toEqual(['go', 'go', undefined, undefined]);
    expect(q.queuedCount).toBe(2);
    q.release();
    expect(outcomes[2]).toBe('go');
    expect(outcomes[3]).toBeUndefined();
    q.release();
    expect(outcomes[3]).toBe('go');
    expect(q.activeCount).toBe(2);
  });

  it('the queue is bounded: beyond maxQueued a newcomer is refused at once', () => {
    const q = new HandshakeQueue({ maxActive: 1, maxQueued: 3, perSecond: 1000, maxWaitMs: 5000 });
    const { outcomes, ask } = track(q);
    for (let n = 0; n < 6; n++) ask('a');
    expect(outcomes).toEqual(['go', undefined, undefined, undefined, 'full', 'full']);
  });

  it('fair across addresses: a full queue makes room for another address by refusing the busiest one, and turns go round robin', () => {
    const q = new HandshakeQueue({ maxActive: 1, maxQueued: 4, perSecond: 1000, maxWaitMs: 5000 });
    const { outcomes, ask } = track(q);
    for (let n = 0; n < 5; n++) ask('flood'); // 1 going, 4 waiting: full
    const other = ask('other');
    expect(outcomes[other.i]).toBeUndefined(); // waiting, not refused
    expect(outcomes[4]).toBe('full'); // the flood's newest place went to it
    q.release();
    expect(outcomes[1]).toBe('go'); // the flood's first waiting one
    q.release();
    expect(outcomes[other.i]).toBe('go'); // then the other address, before the flood's next
    expect(outcomes[2]).toBeUndefined();
  });

  it("an address over its pace waits at that pace; one whose pace alone would pass maxWaitMs is refused ('rate')", async () => {
    const q = new HandshakeQueue({ maxActive: 100, maxQueued: 100, perSecond: 10, maxWaitMs: 1000 });
    const { outcomes, ask } = track(q);
    const started = Date.now();
    for (let n = 0; n < 25; n++) ask('a');
    expect(outcomes.filter((o) => o === 'go').length).toBe(10); // a second's burst at once
    expect(outcomes.filter((o) => o === 'rate').length).toBeGreaterThanOrEqual(4); // 10 more fit in 1 s
    expect(ask('b').i).toBeDefined();
    expect(outcomes[25]).toBe('go'); // per address
    await waitFor(() => outcomes.filter((o) => o === 'go').length >= 16, 3000, 'the waiting ones to go at the pace');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400); // 5 more at 10/s
    expect(outcomes.includes('wait')).toBe(false);
  });

  it('a withdrawn waiter (the connection went) frees its place; one that waits past maxWaitMs is refused', async () => {
    const q = new HandshakeQueue({ maxActive: 1, maxQueued: 10, perSecond: 1000, maxWaitMs: 200 });
    const { outcomes, ask } = track(q);
    ask('a');
    const gone = ask('a');
    ask('a');
    gone.withdraw();
    expect(q.queuedCount).toBe(1);
    await waitFor(() => outcomes[2] === 'wait', 2000, 'the waiter to be refused after maxWaitMs');
    expect(outcomes[1]).toBeUndefined(); // withdrawn: neither went nor was refused
    expect(q.queuedCount).toBe(0);
  });
});
