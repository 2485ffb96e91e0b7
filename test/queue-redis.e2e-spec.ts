/**
 * The Redis (BullMQ) queue backend against a real Redis: REDIS_URL, default
 * redis://127.0.0.1:6379. The outage tests start their own `redis-server` on a free port so
 * they can stop it. Without a Redis (and CI !== 'true') the suite says so loudly and runs one
 * test instead that checks nothing listens at REDIS_URL.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';
import { queueName, type QueueBackend, type QueueTarget } from '../lib/core/queue/command-queue.js';
import { createRedisQueueBackend, type RedisQueueOptions } from '../lib/core/queue/redis-queue.js';
import type { QueueCrashChildConfig, QueueCrashChildMessage } from './fixtures/queue-crash-child.js';
import { freePort } from './support/free-port.js';
import { waitFor } from './support/wait-for.js';
import { REDIS_URL, redisAnswers, startRedisServer } from './support/redis.js';
import { gate, recordingLogger } from './support/recording-logger.js';
import { expectRedisAbsent } from './support/redis-absent.js';
import { meshError as rejection } from './support/mesh-rejection.js';

const redisUp = await redisAnswers(REDIS_URL);

// Every queue this run creates lives under this worker name; afterAll deletes their keys.
const WORKER = `QueueE2E-${process.pid}-${Date.now().toString(36)}`;
let seq = 0;
function target(command = 'ingest'): QueueTarget {
  return { worker: WORKER, command, variant: `v${++seq}` };
}

/** As test/fixtures/queue-crash-child.ts: what one stores, the other opens. */
const QUEUE_KEYS = deriveMeshKeys('queue-tests', 'queue-tests-private-key-0123456789abcdef');

const backends: QueueBackend[] = [];
function backend(options: RedisQueueOptions = {}): QueueBackend {
  const created = createRedisQueueBackend({ redis: REDIS_URL, keys: QUEUE_KEYS, ...options });
  backends.push(created);
  return created;
}

const children = new Set<ChildProcess>();
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  children.delete(child);
}

/** A throwaway redis-server (no persistence) on `port`, for tests that take Redis away. */

// Compiled by `npm run build:all`, like every forked fixture (npm test builds first).
const CHILD = fileURLToPath(new URL('../build/test/fixtures/queue-crash-child.js', import.meta.url));

if (redisUp || process.env.CI === 'true') {
  describe('Redis queue backend (BullMQ)', () => {
    afterEach(async () => {
      await Promise.all(backends.splice(0).map((b) => b.close()));
      await Promise.all([...children].map(stop));
    });

    afterAll(async () => {
      const admin = new Redis(REDIS_URL);
      try {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await admin.scan(cursor, 'MATCH', `bull:socket-mesh.${WORKER}.*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        if (keys.length > 0) await admin.del(...keys);
      } finally {
        await admin.quit();
      }
    });

    it('runs jobs one at a time, in the order they were stored', async () => {
      const b = backend();
      const events: string[] = [];
      let active = 0;
      let maxActive = 0;
      const queue = b.open(target(), async (payload) => {
        const { n } = payload as { n: number };
        active++;
        maxActive = Math.max(maxActive, active);
        events.push(`start ${n}`);
        for (let i = 0; i < (n * 7) % 5; i++) await nextTurn();
        events.push(`end ${n}`);
        active--;
      });
      expect(b.kind).toBe('redis');

      const count = 20;
      for (let n = 0; n < count; n++) await queue.add(`r${n}`, { n });
      await waitFor(() => events.length === 2 * count, 10_000, 'every job to finish');

      expect(events).toEqual(Array.from({ length: count }, (_, n) => [`start ${n}`, `end ${n}`]).flat());
      expect(maxActive).toBe(1);
    });

    it('hands the handler the payload as it was given, undefined included', async () => {
      const b = backend();
      const seen: unknown[] = [];
      const queue = b.open(target(), (payload) => void seen.push(payload));
      await queue.add('p1', { nested: { list: [1, 'two', null] }, flag: true });
      await queue.add('p2', undefined);
      await queue.add('p3', 'text');
      await waitFor(() => seen.length === 3, 10_000, 'three jobs');
      expect(seen).toEqual([{ nested: { list: [1, 'two', null] }, flag: true }, undefined, 'text']);
    });

    it('stores payloads sealed: the raw Redis entry holds no plaintext, and names only the key id', async () => {
      const b = backend();
      const ran: unknown[] = [];
      const t = target();
      const queue = b.open(t, (payload) => void ran.push(payload));
      const secret = { card: 'SECRET-4111-1111-1111-1111', note: 'plaintext-marker-Zq9' };
      await queue.add('at-rest-1', secret);
      await waitFor(() => ran.length === 1, 10_000, 'the job');
      expect(ran).toEqual([secret]);
      const admin = new Redis(REDIS_URL);
      try {
        const entry = await admin.hgetall(`bull:${queueName(t)}:at-rest-1`);
        const raw = JSON.stringify(entry);
        expect(entry.data).toMatch(new RegExp(`^\\{"sealed":"sm1\\.${QUEUE_KEYS.keyId}\\.[A-Za-z0-9_-]+"\\}$`));
        expect(raw).not.toContain('SECRET-4111');
        expect(raw).not.toContain('plaintext-marker');
        expect(raw).not.toContain(Buffer.from('plaintext-marker').toString('base64'));
      } finally {
        await admin.quit();
      }
    });

    it('refuses an entry changed in Redis or moved from another job: logged, kept as failed, never run', async () => {
      const logger = recordingLogger();
      const b = backend({ logger, attempts: 3, backoff: 10 });
      const hold = gate();
      const ran: unknown[] = [];
      const t = target();
      const name = queueName(t);
      const queue = b.open(t, async (payload) => {
        if (payload === 'first') await hold.promise;
        ran.push(payload);
      });
      const admin = new Redis(REDIS_URL);
      try {
        await queue.add('first', 'first');
        await waitFor(() => admin.exists(`bull:${name}:first`).then((n) => n === 1), 5000, 'the first job stored');
        await queue.add('flipped', 'to be flipped');
        await queue.add('moved', 'to be replaced');
        await queue.add('donor', 'donor');
        // While 'first' runs, the others wait: change them under the worker's feet.
        const flipped = JSON.parse((await admin.hget(`bull:${name}:flipped`, 'data'))!) as { sealed: string };
        const body = flipped.sealed.slice(-30);
        const changed = body.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
        await admin.hset(`bull:${name}:flipped`, 'data', JSON.stringify({ sealed: flipped.sealed.slice(0, -30) + changed }));
        await admin.hset(`bull:${name}:moved`, 'data', (await admin.hget(`bull:${name}:donor`, 'data'))!);
        hold.open();
        await waitFor(() => ran.includes('donor'), 10_000, 'the intact job after the refused ones');
        await waitFor(
          async () => new Set(await admin.zrange(`bull:${name}:failed`, 0, -1)).size === 2,
          10_000,
          'two failed jobs',
        );
        expect(ran).toEqual(['first', 'donor']);
        const failed = await admin.zrange(`bull:${name}:failed`, 0, -1);
        expect(failed.sort()).toEqual(['flipped', 'moved']);
        const errors = logger.at('error').filter((m) => m.includes('refused, not run'));
        // Refused at once: no retries (attempts is 3) of an entry that can never open.
        expect(logger.at('warn').filter((m) => m.includes('retrying'))).toEqual([]);
        expect(
          errors.some(
            (m) =>
              m.includes('job flipped failed after 1 attempt(s)') &&
              m.includes('does not authenticate') &&
              m.includes('kept as a failed job'),
          ),
        ).toBe(true);
        expect(errors.some((m) => m.includes('job moved') && m.includes('does not authenticate'))).toBe(true);
      } finally {
        await admin.quit();
      }
    });

    it('opens entries sealed under an older key while the node still holds it (rotation)', async () => {
      const t = target();
      const old = deriveMeshKeys('queue-tests', 'queue-tests-old-private-key-0123456789ab');
      // A node on the old key alone stores two requests and stops before running them.
      const before = backend({ keys: old });
      const started = gate();
      const q1 = before.open(t, async () => {
        started.open();
        await new Promise(() => {});
      });
      await q1.add('old-1', 'sealed under the old key 1');
      await q1.add('old-2', 'sealed under the old key 2');
      await started.promise;
      await q1.close(50);
      await before.close();
      // The same instance restarts holding [new, old]: it opens and runs both.
      const ran: unknown[] = [];
      const after = backend({
        keys: deriveMeshKeys('queue-tests', [
          'queue-tests-private-key-0123456789abcdef',
          'queue-tests-old-private-key-0123456789ab',
        ]),
      });
      after.open(t, (payload) => void ran.push(payload));
      await waitFor(() => ran.length === 2, 40_000, 'both old jobs');
      expect(ran).toEqual(['sealed under the old key 1', 'sealed under the old key 2']);
    }, 60_000);

    it('stores a redelivered request once, also after it ran; any request id is accepted', async () => {
      const b = backend();
      const hold = gate();
      const ran: string[] = [];
      const queue = b.open(target(), async (payload) => {
        await hold.promise;
        ran.push(payload as string);
      });
      await queue.add('same', 'first');
      await queue.add('same', 'duplicate while stored');
      hold.open();
      await waitFor(() => ran.length === 1, 10_000, 'the first job');
      await queue.add('same', 'duplicate after it ran');
      // Request ids BullMQ would refuse as job ids as they are.
      await queue.add('42', 'integer-like id');
      await queue.add('a:b:c', 'id with colons');
      await queue.add('%i42', 'id like an escaped one');
      await waitFor(() => ran.length === 4, 10_000, 'the three other jobs');
      expect(ran).toEqual(['first', 'integer-like id', 'id with colons', 'id like an escaped one']);
    });

    it('resumes what was stored and not run when the same target opens again', async () => {
      const t = target();
      const hold = gate();
      const ranByFirst: string[] = [];
      const first = backend();
      const queue = first.open(t, async (payload) => {
        ranByFirst.push(payload as string);
        if (payload === 'one') await hold.promise;
      });
      for (const id of ['one', 'two', 'three', 'four']) await queue.add(id, id);
      await waitFor(() => ranByFirst.length === 1, 10_000, 'job one to start');

      // Closing stops fetching at once; the running job is let finish.
      const closing = first.close();
      hold.open();
      await closing;
      expect(ranByFirst).toEqual(['one']);

      const ranBySecond: string[] = [];
      backend().open(t, (payload) => void ranBySecond.push(payload as string));
      await waitFor(() => ranBySecond.length === 3, 10_000, 'the stored jobs to run after reopening');
      expect(ranBySecond).toEqual(['two', 'three', 'four']);
    });

    it('retries a failing handler, keeps the job as failed, logs it, and runs the next job', async () => {
      const logger = recordingLogger();
      const b = backend({ attempts: 2, backoff: 20, logger });
      const t = target();
      const runs: string[] = [];
      const queue = b.open(t, (payload) => {
        runs.push(payload as string);
        if (payload === 'bad') throw new Error('handler broke');
      });
      await queue.add('bad-job', 'bad');
      await queue.add('good-job', 'good');
      await waitFor(() => logger.at('error').length === 1, 10_000, 'the final failure to be logged');
      await waitFor(() => runs.includes('good'), 10_000, 'the good job');

      expect(runs.filter((r) => r === 'bad')).toHaveLength(2);
      expect(logger.at('warn')).toEqual([expect.stringMatching(/bad-job attempt 1\/2 failed: handler broke; retrying/)]);
      expect(logger.at('error')[0]).toContain(queue.name);
      expect(logger.at('error')[0]).toMatch(/bad-job failed after 2 attempt\(s\): handler broke/);
      const admin = new Redis(REDIS_URL);
      try {
        expect(await admin.zscore(`bull:${queueName(t)}:failed`, 'bad-job')).not.toBeNull();
      } finally {
        await admin.quit();
      }
    });

    it('stores the adds of one turn as one sealed job, runs them in order, and a failing one alone again', async () => {
      const logger = recordingLogger();
      const b = backend({ attempts: 2, backoff: 20, logger });
      const t = target();
      const name = queueName(t);
      const runs: unknown[] = [];
      const queue = b.open(t, (payload) => {
        runs.push(payload);
        if (payload === 'bad') throw new Error('handler broke');
      });
      const payloads = ['one', undefined, 'bad', { four: 4 }, 'five'];
      // Same turn, as the requests of one frame reach it.
      await Promise.all(payloads.map((p, i) => queue.add(`t${i}`, p)));
      await waitFor(() => runs.filter((r) => r === 'bad').length === 2, 10_000, 'the failing request and its retry');
      await waitFor(() => logger.at('error').length === 1, 10_000, 'the final failure to be logged');

      // In order, one at a time; the failing one ran again on its own after the batch went on.
      expect(runs).toEqual(['one', undefined, 'bad', { four: 4 }, 'five', 'bad']);
      expect(logger.at('warn')).toEqual([
        expect.stringMatching(/request t2 \(job %b.+\) attempt 1\/2 failed: handler broke; retrying as job t2/),
      ]);
      expect(logger.at('error')[0]).toMatch(/job t2 failed after 2 attempt\(s\): handler broke/);
      const admin = new Redis(REDIS_URL);
      try {
        const jobs = (await admin.keys(`bull:${name}:*`)).filter((k) => /:(%b[0-9a-f-]+|t2)$/.test(k));
        expect(jobs.map((k) => k.slice(`bull:${name}:`.length).replace(/^%b.*/, 'batch')).sort()).toEqual(['batch', 't2']);
        const batch = jobs.find((k) => k.includes(':%b'))!;
        const data = (await admin.hget(batch, 'data'))!;
        expect(data).toMatch(new RegExp(`^\\{"sealed":"smb1\\.${QUEUE_KEYS.keyId}\\.[A-Za-z0-9_-]+"\\}$`));
        expect(data).not.toContain('four');
        expect(await admin.zscore(`bull:${name}:failed`, 't2')).not.toBeNull();
      } finally {
        await admin.quit();
      }
    });

    it('closing in the middle of a batch hands back only the requests not run; the next start runs them', async () => {
      const t = target();
      const hold = gate();
      const first = backend();
      const ranByFirst: string[] = [];
      const queue = first.open(t, async (payload) => {
        ranByFirst.push(payload as string);
        if (payload === 'b') await hold.promise;
      });
      await Promise.all(['a', 'b', 'c', 'd'].map((id) => queue.add(id, id)));
      await waitFor(() => ranByFirst.length === 2, 10_000, 'the second request of the batch to start');
      const closing = first.close();
      hold.open();
      await closing;
      expect(ranByFirst).toEqual(['a', 'b']);

      const ranBySecond: string[] = [];
      backend().open(t, (payload) => void ranBySecond.push(payload as string));
      await waitFor(() => ranBySecond.length === 2, 10_000, 'the rest of the batch after reopening');
      expect(ranBySecond).toEqual(['c', 'd']);
    });

    it('after drainTimeout, close hands the running job back; the next start runs it first', async () => {
      const t = target();
      const logger = recordingLogger();
      const first = backend({ logger });
      const started: string[] = [];
      const queue = first.open(t, (payload) => {
        started.push(payload as string);
        return new Promise(() => {});
      });
      await queue.add('stuck', 'stuck');
      await queue.add('next', 'next');
      await waitFor(() => started.length === 1, 10_000, 'the stuck job to start');

      const t0 = Date.now();
      await queue.close(200);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(logger.at('warn')).toEqual([expect.stringContaining('job stuck still running after 200 ms')]);
      expect((await rejection(queue.add('late', 'late'))).code).toBe(MeshErrorCode.CLOSED);

      const ran: string[] = [];
      backend().open(t, (payload) => void ran.push(payload as string));
      await waitFor(() => ran.length === 2, 10_000, 'both jobs on the next start');
      expect(ran).toEqual(['stuck', 'next']);
    });

    it('re-runs the job a kill -9 interrupted, and the rest, in order, within 30 s of the variant restarting', async () => {
      const t = target();
      const ids = ['c1', 'c2', 'c3', 'c4'];
      const config: QueueCrashChildConfig = { redisUrl: REDIS_URL, target: t, ids };
      let childOutput = '';
      const child = fork(CHILD, [], {
        env: { ...process.env, QUEUE_CHILD: JSON.stringify(config) },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      children.add(child);
      child.stdout?.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
      const messages: QueueCrashChildMessage[] = [];
      child.on('message', (message) => messages.push(message as QueueCrashChildMessage));

      await waitFor(
        () => messages.some((m) => m.type === 'stored') && messages.some((m) => m.type === 'started'),
        20_000,
        'the child to store every request and start the first',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nchild output:\n${childOutput}`);
      });
      await stop(child); // SIGKILL, mid-job
      expect(messages.filter((m) => m.type === 'started')).toEqual([{ type: 'started', id: 'c1' }]);

      const logger = recordingLogger();
      const ran: string[] = [];
      const restartedAt = Date.now();
      backend({ logger }).open(t, (payload) => void ran.push((payload as { id: string }).id));
      await waitFor(() => ran.length === ids.length, 30_000, 'every stored job to run after the restart');

      expect(Date.now() - restartedAt).toBeLessThan(30_000);
      expect(ran).toEqual(ids);
      expect(logger.at('warn')).toContainEqual(expect.stringContaining('1 job(s) interrupted by a previous run'));
    }, 60_000);

    it('refuses adds with QUEUE_UNAVAILABLE at once while Redis is down, and works again when it is back', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const port = await freePort();
        let server = await startRedisServer(port, children);
        const logger = recordingLogger();
        const b = backend({ redis: `redis://127.0.0.1:${port}`, logger });
        const ran: string[] = [];
        const queue = b.open(target(), (payload) => void ran.push(payload as string));
        await queue.add('before', 'before');
        // Completed in Redis, not only run: the outage must not catch it between the two.
        const probe = new Redis(port, '127.0.0.1');
        try {
          await waitFor(
            async () => (await probe.zscore(`bull:${queue.name}:completed`, 'before')) !== null,
            10_000,
            'a job to complete before the outage',
          );
        } finally {
          await probe.quit();
        }

        await stop(server);
        for (const id of ['during-1', 'during-2']) {
          const t0 = Date.now();
          const err = await rejection(queue.add(id, id));
          expect(err.code).toBe(MeshErrorCode.QUEUE_UNAVAILABLE);
          expect(Date.now() - t0).toBeLessThan(2000);
        }

        server = await startRedisServer(port, children);
        await waitFor(
          async () => {
            await queue.add('after', 'after');
            return true;
          },
          15_000,
          'adds to be taken again',
        );
        await waitFor(() => ran.includes('after'), 15_000, 'the job stored after the outage to run');

        expect(ran).toEqual(['before', 'after']);
        expect(logger.at('warn').filter((m) => m.includes('Redis unreachable'))).toHaveLength(1);
        expect(logger.at('info').filter((m) => m.includes('Redis reachable again')).length).toBeGreaterThanOrEqual(1);
        expect(logger.at('error')).toEqual([]);
        await b.close();
        await stop(server);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    }, 45_000);

    it('closes at once while Redis is down', async () => {
      const port = await freePort();
      const server = await startRedisServer(port, children);
      const b = backend({ redis: `redis://127.0.0.1:${port}` });
      const ran: string[] = [];
      const queue = b.open(target(), (payload) => void ran.push(payload as string));
      await queue.add('one', 'one');
      await waitFor(() => ran.length === 1, 10_000, 'a job before the outage');
      await stop(server);
      await waitFor(
        () =>
          queue.add('probe', 'probe').then(
            () => false,
            (err: MeshError) => err.code === MeshErrorCode.QUEUE_UNAVAILABLE,
          ),
        5000,
        'the outage to be noticed',
      );

      const t0 = Date.now();
      await b.close();
      expect(Date.now() - t0).toBeLessThan(2000);
      expect((await rejection(queue.add('late', 'late'))).code).toBe(MeshErrorCode.CLOSED);
    });

    it('closes within its bounds when Redis went away while the last job ran', async () => {
      const port = await freePort();
      const server = await startRedisServer(port, children);
      const logger = recordingLogger();
      const b = backend({ redis: `redis://127.0.0.1:${port}`, logger });
      const hold = gate();
      const finished: string[] = [];
      const queue = b.open(target(), async (payload) => {
        await hold.promise;
        finished.push(payload as string);
      });
      await queue.add('one', 'one');
      const probe = new Redis(port, '127.0.0.1');
      try {
        await waitFor(async () => (await probe.llen(`bull:${queue.name}:active`)) === 1, 10_000, 'the job to start');
      } finally {
        await probe.quit();
      }

      await stop(server);
      const t0 = Date.now();
      const closing = queue.close(300);
      hold.open();
      await closing;
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(finished).toEqual(['one']);
      expect(logger.at('warn')).toContainEqual(
        expect.stringContaining('the outcome of job one could not be recorded within 300 ms'),
      );
      await b.close();
    });

    it('fails fast when Redis is not there at start, without hanging the caller', async () => {
      const port = await freePort(); // nothing listens here
      const logger = recordingLogger();
      const b = backend({ redis: `redis://127.0.0.1:${port}`, logger });
      const queue = b.open(target(), () => undefined);
      const t0 = Date.now();
      expect((await rejection(queue.add('r', 'r'))).code).toBe(MeshErrorCode.QUEUE_UNAVAILABLE);
      expect(Date.now() - t0).toBeLessThan(2000);
      await b.close();
      expect(logger.at('warn').filter((m) => m.includes('Redis unreachable'))).toHaveLength(1);
    });

    it("reuses a caller's ioredis client and leaves it open", async () => {
      const client = new Redis(REDIS_URL);
      try {
        const b = createRedisQueueBackend({ connection: client, keys: QUEUE_KEYS });
        backends.push(b);
        const ran: string[] = [];
        const queue = b.open(target(), (payload) => void ran.push(payload as string));
        await queue.add('r1', 'shared');
        await waitFor(() => ran.length === 1, 10_000, 'the job');
        await b.close();
        expect(ran).toEqual(['shared']);
        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
      } finally {
        await client.quit();
      }
    });

    it('refuses options it cannot honour', () => {
      expect(() => createRedisQueueBackend({ redis: REDIS_URL, connection: {} })).toThrow(/either/);
      expect(() => createRedisQueueBackend({ attempts: 0 })).toThrow(TypeError);
      expect(() => createRedisQueueBackend({ backoff: -1 })).toThrow(TypeError);
      // Without keys there is nothing to seal with: no queue rather than plain JSON in Redis.
      expect(() => createRedisQueueBackend({ redis: REDIS_URL }).open(target(), () => undefined)).toThrow(/mesh keys to seal/);
      expect(() =>
        createRedisQueueBackend({ connection: { not: 'a client' }, keys: QUEUE_KEYS }).open(target(), () => undefined),
      ).toThrow(/ioredis client/);
    });
  });
} else {
  it('Redis unavailable: queue e2e not run, and nothing listens at REDIS_URL', () =>
    expectRedisAbsent('queue-redis', 'the Redis queue e2e tests'));
}
