/**
 * Queued broadcasts (`@Broadcast({ queued: true })` / `{ method, queued: true }`) end to end,
 * with real processes (compiled fixtures, forked) and, for Redis mode, the real Redis of this
 * machine (REDIS_URL, default redis://127.0.0.1:6379). Per front (plain, nest):
 *
 *  - memory mode: 2 NodeB, 20 concurrent `ingest` calls from NodeA → each `{ queued: 2 }`; every
 *    instance runs every request, in the order NodeA issued them, one at a time;
 *  - the same in Redis mode (BullMQ);
 *  - Redis unreachable: MESH_PARTIAL_FAILURE carrying MESH_QUEUE_UNAVAILABLE at once, the NodeB
 *    stays up and answers `status`; once a redis-server listens there, queued calls work again.
 * Plain front only: NodeB killed (SIGKILL) mid-job and restarted with the same instanceId →
 * every acknowledged request is processed (duplicates counted, none lost) within 30 s.
 *
 * "Order" is the order NodeA issued its calls: the test sends them over IPC in sequence, the
 * fixture issues `call` in that sequence, and the link to each NodeB preserves it.
 *
 * Without a Redis (and CI !== 'true') the Redis cases are replaced by one test that says so
 * loudly; with CI=true a missing Redis fails them. MESH_FRONTS=plain (or nest) restricts the fronts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './support/free-port.js';
import {
  assertFixtures,
  killAll,
  startManager,
  startWorker,
  stopAll,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
  type WorkerStartConfig,
} from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';
import { REDIS_URL, redisAnswers, startRedisServer, stopRedisServer } from './support/redis.js';
import { expectRedisAbsent } from './support/redis-absent.js';

const CI = process.env.CI === 'true';

const redisUp = await redisAnswers(REDIS_URL);
const runRedisCases = redisUp || CI;

const ALL_FRONTS = ['plain', 'nest'] as const;
const requested = process.env.MESH_FRONTS?.split(',')
  .map((f) => f.trim())
  .filter(Boolean);
const fronts: readonly Front[] = requested ? ALL_FRONTS.filter((front) => requested.includes(front)) : ALL_FRONTS;
if (fronts.length === 0)
  throw new Error(`MESH_FRONTS=${process.env.MESH_FRONTS} names no known front (${ALL_FRONTS.join(', ')})`);

/** Unique per run: every variant (and so every BullMQ queue) of this run carries it. */
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`;
/** Variants whose queues were created in the real Redis; afterAll deletes their keys. */
const redisVariants = new Set<string>();
/** Throwaway redis-servers of the outage tests. */
const redisServers = new Set<ChildProcess>();

interface Ingested {
  id: string;
  start: number;
  end: number;
}
interface FixtureLog {
  notified: unknown[];
  ingested: Ingested[];
}

afterAll(async () => {
  await stopAll();
  await killAll();
  await Promise.all([...redisServers].map((server) => stopRedisServer(server, redisServers)));
  if (redisUp && redisVariants.size > 0) {
    const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      for (const variant of redisVariants) {
        const keys = await admin.keys(`bull:socket-mesh.NodeB.*.${variant}*`);
        if (keys.length > 0) await admin.del(...keys);
      }
    } finally {
      await admin.quit();
    }
  }
}, 30_000);

/** What one instance's `log()` says, asked through `caller` with `only` (so it is that instance). */
async function logOf(caller: WorkerHandle, variant: string): Promise<FixtureLog> {
  return caller.callOk<FixtureLog>('NodeB', 'log', undefined, { only: variant, timeout: 3000 });
}

/** Every job that started before the previous one had ended, described (empty: no overlap). */
function overlaps(entries: readonly Ingested[]): string[] {
  const found: string[] = [];
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.start < entries[i - 1]!.end) {
      found.push(
        `${entries[i]!.id} started at ${entries[i]!.start} before ${entries[i - 1]!.id} ended at ${entries[i - 1]!.end}`,
      );
    }
  }
  return found;
}

describe.each(fronts)('queued broadcasts (%s front)', (front) => {
  let manager: ManagerHandle;
  let a: WorkerHandle;

  const nodeB = (extra: Partial<WorkerStartConfig> = {}): WorkerStartConfig => ({
    worker: 'NodeB',
    manager: { host: '127.0.0.1', port: manager.port },
    advertiseHost: '127.0.0.1',
    allow: ['NodeA'],
    connect: [],
    logLevel: 'warn',
    ...extra,
  });
  const listedByA = async () => (await a.peers('NodeB')).map((p) => p.variant).sort();

  /** Starts NodeB instances and waits until NodeA lists exactly them. */
  async function startNodeBs(configs: Partial<WorkerStartConfig>[]): Promise<WorkerHandle[]> {
    const started = await Promise.all(configs.map((c) => startWorker(front, nodeB(c))));
    await Promise.all(started.map((b) => b.waitForEvent('connected', undefined, 20_000)));
    const want = started.map((b) => b.variant).sort();
    await waitFor(
      async () => JSON.stringify(await listedByA()) === JSON.stringify(want),
      15_000,
      `NodeA to list exactly ${want.join(', ')}`,
    );
    return started;
  }

  /** Graceful stop (a leak in close() makes it reject), then NodeA no longer lists them. */
  async function stopNodeBs(bs: readonly WorkerHandle[]): Promise<void> {
    const gone = new Set(bs.map((b) => b.variant));
    await Promise.all(bs.map((b) => b.stop()));
    await waitFor(
      async () => (await listedByA()).every((v) => !gone.has(v)),
      15_000,
      'NodeA to drop the stopped NodeB instances',
    );
  }

  beforeAll(async () => {
    assertFixtures(front);
    manager = await startManager(front, { port: await freePort(), logLevel: 'warn' });
    a = await startWorker(front, {
      worker: 'NodeA',
      variant: `${front}-NodeA-${RUN}`,
      manager: { host: '127.0.0.1', port: manager.port },
      advertiseHost: '127.0.0.1',
      allow: [],
      connect: ['NodeB'],
      logLevel: 'warn',
    });
    await a.waitForEvent('connected', undefined, 20_000);
  }, 60_000);

  afterAll(async () => {
    // Graceful first: a process that does not exit after close() leaked a handle.
    const killed = await stopAll();
    await killAll();
    expect(killed).toEqual([]);
  }, 30_000);

  /**
   * 2 NodeB; 20 `ingest` calls issued at once by NodeA; each is acknowledged `{ queued: 2 }`;
   * then each instance's log must show all 20, in issue order, none starting before the
   * previous one ended.
   */
  async function orderAndNoOverlap(mode: 'memory' | 'redis'): Promise<void> {
    const variants = [1, 2].map((i) => `${front}-${mode}-${i}-${RUN}`);
    if (mode === 'redis') for (const v of variants) redisVariants.add(v);
    const bs = await startNodeBs(variants.map((variant) => ({ variant, redis: mode === 'redis' ? REDIS_URL : undefined })));
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `${mode}-${i}`);
      // Issued in this order: each call's IPC message is sent synchronously, in map order.
      const acks = await Promise.all(ids.map((id) => a.callOk('NodeB', 'ingest', { id, ms: 15 })));
      expect(acks).toEqual(ids.map(() => ({ queued: 2 })));

      for (const b of bs) {
        const log = await waitFor(
          async () => {
            const l = await logOf(a, b.variant);
            return l.ingested.length >= ids.length ? l : undefined;
          },
          20_000,
          `${b.variant} to have run ${ids.length} ingests`,
          50,
        );
        expect(log.ingested.map((e) => e.id)).toEqual(ids);
        expect(overlaps(log.ingested)).toEqual([]);
        for (const e of log.ingested) expect(e.end - e.start).toBeGreaterThanOrEqual(14);
      }
    } finally {
      await stopNodeBs(bs);
    }
  }

  it('memory mode: every instance gets every request, runs them in issue order, one at a time', async () => {
    await orderAndNoOverlap('memory');
  }, 60_000);

  if (runRedisCases) {
    it('Redis mode: every instance gets every request, runs them in issue order, one at a time', async () => {
      await orderAndNoOverlap('redis');
      // The queues really were BullMQ queues in this Redis.
      const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        for (const i of [1, 2]) {
          const keys = await admin.keys(`bull:socket-mesh.NodeB.ingest.${front}-redis-${i}-${RUN}:*`);
          expect(keys.length).toBeGreaterThan(0);
          // Sealed at rest: every stored job holds ciphertext only, none of the payload ({ id: 'redis-n', ms }).
          // Requests that reached an instance in the same turn share a job (a sealed batch, smb1).
          const data: string[] = [];
          for (const key of keys) {
            if ((await admin.type(key)) !== 'hash') continue;
            const field = await admin.hget(key, 'data');
            if (field !== null) data.push(field);
          }
          expect(data.length).toBeGreaterThan(0);
          expect(data.length).toBeLessThanOrEqual(20);
          for (const d of data) {
            expect(d).toMatch(/^\{"sealed":"smb?1\.[0-9a-f]{12}\.[A-Za-z0-9_-]+"\}$/);
            expect(d).not.toContain('redis-');
          }
        }
      } finally {
        await admin.quit();
      }
    }, 60_000);
  }

  if (front === 'plain' && runRedisCases) {
    it('Redis mode: kill -9 mid-job, restart with the same instanceId → every acknowledged request is processed', async () => {
      const N = 10;
      const MS = 300;
      const variant = `${front}-crash-${RUN}`;
      redisVariants.add(variant);
      let b: WorkerHandle | undefined = (await startNodeBs([{ variant, redis: REDIS_URL }]))[0];
      let restarted: WorkerHandle | undefined;
      try {
        const ids = Array.from({ length: N }, (_, i) => `crash-${i}`);
        const acks = await Promise.all(ids.map((id) => a.callOk('NodeB', 'ingest', { id, ms: MS })));
        expect(acks).toEqual(ids.map(() => ({ queued: 1 })));

        // The last look at the instance before the kill: taken while a job has at least
        // ~150 ms left to run, so that no job completes between this snapshot and the kill.
        let before: FixtureLog | undefined;
        await waitFor(
          async () => {
            const log = await logOf(a, variant);
            const n = log.ingested.length;
            if (n < 2 || n > N - 2) return false;
            if (Date.now() - log.ingested[n - 1]!.end > MS / 2) return false;
            before = log;
            return true;
          },
          20_000,
          'a moment in the middle of a job (2..8 done)',
          10,
        );
        const killedAt = Date.now();
        const exit = await b!.kill('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        // The premise: the kill landed while the job after the last logged one was still running.
        expect(killedAt - before!.ingested.at(-1)!.end).toBeLessThan(MS);
        await waitFor(async () => !(await listedByA()).includes(variant), 15_000, 'NodeA to drop the killed instance');

        const restartAt = Date.now();
        restarted = await startWorker(front, nodeB({ variant, redis: REDIS_URL }));
        b = undefined;
        await restarted.waitForEvent('connected', undefined, 20_000);
        await waitFor(async () => (await listedByA()).includes(variant), 15_000, 'NodeA to list the restarted instance');

        const doneBefore = before!.ingested.map((e) => e.id);
        const missing = () => ids.filter((id) => !doneBefore.includes(id));
        const after = await waitFor(
          async () => {
            const log = await logOf(a, variant);
            const have = new Set(log.ingested.map((e) => e.id));
            return missing().every((id) => have.has(id)) ? log : undefined;
          },
          45_000,
          'the restarted instance to run every acknowledged request not done before the kill',
          100,
        );
        const drainedMs = Date.now() - restartAt;

        const doneAfter = after.ingested.map((e) => e.id);
        const all = [...doneBefore, ...doneAfter];
        const unique = new Set(all);
        const lost = ids.filter((id) => !unique.has(id));
        const duplicates = all.length - unique.size;
        const unknown = [...unique].filter((id) => !ids.includes(id));
        console.log(
          `[mesh-queued crash] acknowledged ${ids.length}; processed before kill ${doneBefore.length} ` +
            `(${doneBefore.join(',')}), after restart ${doneAfter.length} (${doneAfter.join(',')}); ` +
            `duplicates ${duplicates}; lost ${lost.length}; kill→restart ${restartAt - killedAt} ms; ` +
            `restart→drained ${drainedMs} ms`,
        );
        expect(lost).toEqual([]);
        expect(unknown).toEqual([]);
        expect(drainedMs).toBeLessThanOrEqual(30_000);
        // The restarted instance also runs one at a time, the interrupted job first, then the
        // rest in arrival order.
        expect(overlaps(after.ingested)).toEqual([]);
        expect(doneAfter.slice(0, missing().length)).toEqual(missing());
      } finally {
        await Promise.all(
          [b, restarted].filter((w): w is WorkerHandle => w !== undefined && w.process.alive).map((w) => w.stop()),
        );
      }
    }, 90_000);
  }

  it('Redis unreachable: MESH_QUEUE_UNAVAILABLE at once, the process stays up, queues resume when Redis comes', async () => {
    const redisPort = await freePort();
    const variant = `${front}-noredis-${RUN}`;
    const [b] = await startNodeBs([{ variant, redis: `redis://127.0.0.1:${redisPort}` }]);
    let server: ChildProcess | undefined;
    try {
      const t0 = Date.now();
      const refused = await a.call('NodeB', 'ingest', { id: 'refused-1' });
      const elapsed = Date.now() - t0;
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.error.code).toBe('MESH_PARTIAL_FAILURE');
      expect(refused.error.outcomes).toHaveLength(1);
      expect(refused.error.outcomes![0]).toMatchObject({
        worker: 'NodeB',
        variant,
        status: 'rejected',
        error: { code: 'MESH_QUEUE_UNAVAILABLE' },
      });
      const inner = (refused.error.outcomes![0] as { error: { message: string } }).error.message;
      // Clear: names the queue and says it was not stored.
      expect(inner).toContain(`socket-mesh.NodeB.ingest.${variant}`);
      expect(inner).toMatch(/not stored|could not be opened/);
      // Fails fast: well inside the 10 s call timeout.
      expect(elapsed).toBeLessThan(7_000);

      // Still up, still serving.
      expect(b!.process.alive).toBe(true);
      const status = await a.callOk<{ status: string; variant: string }>('NodeB', 'status', { test: 'alive' }, { only: variant });
      expect(status).toEqual({ status: 'ok alive', variant });
      expect(b!.process.alive).toBe(true);

      // Redis comes: queued calls are taken and run again, without a restart.
      server = await startRedisServer(redisPort, redisServers);
      const ack = await waitFor(
        async () => {
          const r = await a.call('NodeB', 'ingest', { id: 'after-1' });
          return r.ok ? r.value : undefined;
        },
        20_000,
        'ingest to be accepted once Redis listens',
        250,
      );
      expect(ack).toEqual({ queued: 1 });
      const log = await waitFor(
        async () => {
          const l = await logOf(a, variant);
          return l.ingested.length > 0 ? l : undefined;
        },
        20_000,
        'the accepted ingest to run',
        100,
      );
      // The refused request was not stored anywhere, so it never runs.
      expect(log.ingested.map((e) => e.id)).toEqual(['after-1']);
    } finally {
      await stopNodeBs([b!]);
      if (server) await stopRedisServer(server, redisServers);
    }
  }, 60_000);
});

if (!runRedisCases) {
  describe('queued broadcasts in Redis mode', () => {
    it('Redis cases NOT RUN: nothing listens at REDIS_URL', () =>
      expectRedisAbsent('mesh-queued', 'the Redis-mode queued-broadcast tests (order/no overlap, kill -9 + restart)'));
  });
}
