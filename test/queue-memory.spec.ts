import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';
import { queueName, type QueueTarget } from '../lib/core/queue/command-queue.js';
import { createMemoryQueueBackend } from '../lib/core/queue/memory-queue.js';
import { waitFor } from './support/wait-for.js';
import { gate, recordingLogger } from './support/recording-logger.js';
import { meshError as rejection } from './support/mesh-rejection.js';

let seq = 0;
function target(command = 'ingest'): QueueTarget {
  return { worker: 'NodeB', command, variant: `v${++seq}` };
}

describe('queueName', () => {
  it('names the queue after worker, command and variant, without ":"', () => {
    expect(queueName({ worker: 'NodeB', command: 'ingest', variant: 'pod-1' })).toBe('socket-mesh.NodeB.ingest.pod-1');
    expect(queueName({ worker: 'NodeB', command: 'ingest', variant: '::1:4000' })).toBe('socket-mesh.NodeB.ingest.__1_4000');
  });
});

describe('memory queue backend', () => {
  it('runs jobs one at a time, in the order they were added', async () => {
    const backend = createMemoryQueueBackend({});
    const events: string[] = [];
    let active = 0;
    let maxActive = 0;
    const queue = backend.open(target(), async (payload) => {
      const { n } = payload as { n: number };
      active++;
      maxActive = Math.max(maxActive, active);
      events.push(`start ${n}`);
      // Uneven work: an overlapping or reordering queue would interleave these.
      for (let i = 0; i < (n * 7) % 5; i++) await nextTurn();
      events.push(`end ${n}`);
      active--;
    });
    expect(backend.kind).toBe('memory');
    expect(queue.name).toMatch(/^socket-mesh\.NodeB\.ingest\.v\d+$/);

    const count = 25;
    for (let n = 0; n < count; n++) await queue.add(`r${n}`, { n });
    await waitFor(() => events.length === 2 * count, 5000, 'every job to finish');

    const expected = Array.from({ length: count }, (_, n) => [`start ${n}`, `end ${n}`]).flat();
    expect(events).toEqual(expected);
    expect(maxActive).toBe(1);
    await backend.close();
  });

  it('acknowledges before running: the handler never runs inside add()', async () => {
    const backend = createMemoryQueueBackend({});
    const ran: unknown[] = [];
    const queue = backend.open(target(), (payload) => void ran.push(payload));
    const added = queue.add('r1', 'payload');
    expect(ran).toEqual([]);
    await added;
    await waitFor(() => ran.length === 1, 2000, 'the job to run');
    expect(ran).toEqual(['payload']);
    await backend.close();
  });

  it('rejects QUEUE_FULL beyond maxPending and takes work again once jobs finish', async () => {
    const backend = createMemoryQueueBackend({ maxPending: 2 });
    const hold = gate();
    const done: string[] = [];
    const queue = backend.open(target(), async (payload) => {
      await hold.promise;
      done.push(payload as string);
    });
    await queue.add('a', 'a'); // running
    await queue.add('b', 'b'); // waiting
    const err = await rejection(queue.add('c', 'c'));
    expect(err.code).toBe(MeshErrorCode.QUEUE_FULL);
    expect(err.message).toContain(queue.name);
    expect(err).toMatchObject({ worker: 'NodeB', command: 'ingest' });

    hold.open();
    await waitFor(() => done.length === 2, 2000, 'a and b to finish');
    await queue.add('d', 'd');
    await waitFor(() => done.length === 3, 2000, 'd to finish');
    expect(done).toEqual(['a', 'b', 'd']);
    await backend.close();
  });

  it('stores a redelivered request once while it is pending', async () => {
    const backend = createMemoryQueueBackend({ maxPending: 2 });
    const hold = gate();
    const ran: string[] = [];
    const queue = backend.open(target(), async (payload) => {
      await hold.promise;
      ran.push(payload as string);
    });
    await queue.add('same', 'first');
    await queue.add('same', 'again');
    // The duplicate took no room: a second distinct request still fits under maxPending 2.
    await queue.add('other', 'other');
    hold.open();
    await waitFor(() => ran.length === 2, 2000, 'both jobs');
    expect(ran).toEqual(['first', 'other']);
    await backend.close();
  });

  it('logs a failing handler once, with the queue name and message, and runs the next job', async () => {
    const logger = recordingLogger();
    const backend = createMemoryQueueBackend({ logger });
    const ran: string[] = [];
    const queue = backend.open(target(), async (payload) => {
      const { id, fail } = payload as { id: string; fail?: 'throw' | 'reject' };
      ran.push(id);
      if (fail === 'reject') await Promise.reject(new Error(`rejected ${id}`));
      if (fail === 'throw') throw new Error(`thrown ${id}`);
    });
    await queue.add('r1', { id: 'one', fail: 'reject' });
    await queue.add('r2', { id: 'two' });
    await queue.add('r3', { id: 'three', fail: 'throw' });
    await queue.add('r4', { id: 'four' });
    await waitFor(() => ran.length === 4, 2000, 'all four jobs');
    await waitFor(() => logger.at('error').length === 2, 2000, 'two error lines');

    expect(ran).toEqual(['one', 'two', 'three', 'four']);
    const errors = logger.at('error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(queue.name);
    expect(errors[0]).toContain('rejected one');
    expect(errors[1]).toContain('thrown three');
    await backend.close();
  });

  it('runs a handler that throws synchronously through the same path', async () => {
    const logger = recordingLogger();
    const backend = createMemoryQueueBackend({ logger });
    const ran: string[] = [];
    const queue = backend.open(target(), (payload) => {
      if (payload === 'bad') throw new Error('sync failure');
      ran.push(payload as string);
    });
    await queue.add('r1', 'bad');
    await queue.add('r2', 'good');
    await waitFor(() => ran.length === 1, 2000, 'the good job');
    expect(ran).toEqual(['good']);
    expect(logger.at('error')).toEqual([expect.stringContaining('sync failure')]);
    await backend.close();
  });

  it('close lets the running job finish, drops the waiting ones and rejects later adds with CLOSED', async () => {
    const logger = recordingLogger();
    const backend = createMemoryQueueBackend({ logger });
    const hold = gate();
    const started: string[] = [];
    const finished: string[] = [];
    const queue = backend.open(target(), async (payload) => {
      started.push(payload as string);
      await hold.promise;
      finished.push(payload as string);
    });
    await queue.add('a', 'a');
    await queue.add('b', 'b');
    await waitFor(() => started.length === 1, 2000, 'a to start');

    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    const err = await rejection(queue.add('c', 'c'));
    expect(err.code).toBe(MeshErrorCode.CLOSED);
    await nextTurn();
    expect(closed).toBe(false); // still waiting for 'a'

    hold.open();
    await closing;
    expect(finished).toEqual(['a']);
    expect(started).toEqual(['a']);
    expect(logger.at('warn')).toEqual([expect.stringContaining('1 request(s) not started')]);
    await backend.close();
  });

  it('close gives up on a job that outlives drainTimeout', async () => {
    const logger = recordingLogger();
    const backend = createMemoryQueueBackend({ logger });
    const queue = backend.open(target(), () => new Promise(() => {}));
    await queue.add('stuck', 'stuck');
    const t0 = Date.now();
    await queue.close(100);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(1000);
    expect(logger.at('warn')).toEqual([expect.stringContaining('request stuck still running after 100 ms')]);
    await backend.close();
  });

  it('backend close closes every queue; a closed backend opens none', async () => {
    const backend = createMemoryQueueBackend({});
    const t = target();
    const first = backend.open(t, () => undefined);
    expect(() => backend.open(t, () => undefined)).toThrow(/already open/);
    const second = backend.open(target('other'), () => undefined);
    await backend.close();
    expect((await rejection(first.add('x', 1))).code).toBe(MeshErrorCode.CLOSED);
    expect((await rejection(second.add('x', 1))).code).toBe(MeshErrorCode.CLOSED);
    expect(() => backend.open(target(), () => undefined)).toThrow(MeshError);
  });

  it('a closed queue frees its target for a new one', async () => {
    const backend = createMemoryQueueBackend({});
    const t = target();
    await backend.open(t, () => undefined).close();
    const ran: unknown[] = [];
    const again = backend.open(t, (p) => void ran.push(p));
    await again.add('r', 'again');
    await waitFor(() => ran.length === 1, 2000, 'the job on the reopened queue');
    expect(ran).toEqual(['again']);
    await backend.close();
  });

  it('refuses a maxPending that is not a positive integer', () => {
    expect(() => createMemoryQueueBackend({ maxPending: 0 })).toThrow(TypeError);
    expect(() => createMemoryQueueBackend({ maxPending: 1.5 })).toThrow(TypeError);
  });
});
