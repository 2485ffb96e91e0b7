/**
 * Reliability under faults, part 2: chaos. Two NodeA callers keep 200 calls each in flight
 * (balanced `status` and responding `collect` broadcasts) against three NodeB instances while a
 * seeded schedule kills NodeB instances with SIGKILL and restarts them (same instanceId; on its
 * old port or a new one, as the seed says), and kills and restarts the manager twice (same
 * socket port).
 *
 * Asserted:
 * - every call succeeds or fails with MESH_PEER_DISCONNECTED, MESH_NO_PEER or MESH_TIMEOUT (a
 *   responding broadcast reports those per instance inside MESH_PARTIAL_FAILURE); no answer is
 *   mixed up or duplicated; no call outlives its timeout (plus scheduling slack);
 * - calls in flight on a killed instance fail with MESH_PEER_DISCONNECTED within 100 ms of the
 *   caller's socket to it closing (timed inside the caller; the kill-to-close time is printed too);
 * - calls started after the caller saw the instance go never go to it until it is back;
 * - a restarted instance answers every caller again within 2 s of being ready (registered, with
 *   the caller registered with the same manager: after a manager restart it may still be backing off);
 * - manager restarts: workers re-register (jittered backoff), the registry is rebuilt, and no
 *   connected peer notices (no peer.disconnected on either side but the killed instances').
 *
 * Seed: MESH_SEED (default below) decides the fault order, the victims and every delay.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  describeSummary,
  loadStats,
  mergeSummaries,
  mulberry32,
  registry,
  runLoad,
  stopLoad,
  suiteSeed,
  waitForPeers,
} from './reliability-harness.js';
import type { LoadSummary, LocalMeshEvent } from './support/fixture-protocol.js';
import { freePort } from './support/free-port.js';
import { startManager, startWorker, stopAll, type Front, type ManagerHandle, type WorkerHandle } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

const SEED = suiteSeed(0xc4a0_5eed);
const CALL_TIMEOUT_MS = 2000;
/** A loaded 2-core box may run a timer late; a call "hangs" only beyond this. */
const SCHEDULING_SLACK_MS = 1000;
const IN_FLIGHT_FAIL_MS = 100;
const REJOIN_MS = 2000;
const NODE_B_KILLS = 6;
const MANAGER_RESTARTS = 2;
const ALLOWED = ['MESH_PEER_DISCONNECTED', 'MESH_NO_PEER', 'MESH_TIMEOUT'];

interface Slot {
  front: Front;
  variant: string;
  handle: WorkerHandle;
  /** Set while the instance is dead: resolves once its restart registered. */
  restarting?: Promise<void>;
}

interface KillRecord {
  variant: string;
  /** Test clock (the same wall clock as the fixtures'), just before the SIGKILL. */
  killAt: number;
  /** When the test saw the process gone. */
  exitAt: number;
  downtimeMs: number;
  /** Restarted on its old port (a stable address) rather than a new one (the manager tells callers). */
  samePort: boolean;
  /** The restart's first registration, stamped in the restarted process itself. */
  registeredAt?: number;
}

interface ManagerRecord {
  killAt: number;
  downtimeMs: number;
  /** When the test got the new manager's 'ready'. */
  readyAt: number;
  /** When GET /socket-mesh/nodes listed every live worker again. */
  rebuiltAt?: number;
  /** Per worker variant: its first registration after the kill, stamped in the worker. */
  reRegisteredAt: Record<string, number>;
}

describe('reliability: chaos (SIGKILL of NodeB instances and of the manager, under load)', () => {
  let managerPort: number;
  let manager: ManagerHandle;
  const slots: Slot[] = [];
  const callers: WorkerHandle[] = [];

  const workerConfig = (variant: string, meshPort?: number) => ({
    worker: 'NodeB',
    variant,
    meshPort,
    manager: { host: '127.0.0.1', port: managerPort },
    allow: ['NodeA'],
    logLevel: 'error' as const,
  });

  beforeAll(async () => {
    managerPort = await freePort();
    manager = await startManager('nest', { port: managerPort, logLevel: 'error' });
    const fronts: Front[] = ['plain', 'plain', 'nest'];
    const handles = await Promise.all(fronts.map((front, i) => startWorker(front, workerConfig(`chaos-B${i}`))));
    handles.forEach((handle, i) => slots.push({ front: fronts[i]!, variant: handle.variant, handle }));
    callers.push(
      ...(await Promise.all(
        [0, 1].map((i) =>
          startWorker('plain', {
            worker: 'NodeA',
            variant: `chaos-A${i}`,
            manager: { host: '127.0.0.1', port: managerPort },
            connect: ['NodeB'],
            logLevel: 'error',
          }),
        ),
      )),
    );
    await Promise.all(
      callers.map((c) =>
        waitForPeers(
          c,
          'NodeB',
          slots.map((s) => s.variant),
          30_000,
        ),
      ),
    );
  }, 90_000);

  afterAll(async () => {
    await stopAll();
  }, 60_000);

  it('fails only with the expected codes, at once, never to a dead instance, and heals', async () => {
    const random = mulberry32(SEED);
    const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
    const kills: KillRecord[] = [];
    const managerRestarts: ManagerRecord[] = [];
    const restarts: Promise<void>[] = [];

    // The plan is fixed by the seed before anything runs.
    const plan: ('B' | 'M')[] = [...Array<'B'>(NODE_B_KILLS).fill('B'), ...Array<'M'>(MANAGER_RESTARTS).fill('M')];
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }

    const loads = callers.map((c, i) =>
      runLoad(
        c,
        {
          tag: 'chaos',
          worker: 'NodeB',
          mix: { status: 8, collect: 2 },
          concurrency: 200,
          options: { timeout: CALL_TIMEOUT_MS },
          seed: SEED + i,
          durationMs: 100_000, // a bound only: the test stops the load
        },
        130_000,
      ),
    );
    const settledLoads = Promise.allSettled(loads);
    let summaries: LoadSummary[];
    try {
      await Promise.all(
        callers.map((c) =>
          waitFor(async () => ((await loadStats(c, 'chaos')).run?.ok ?? 0) > 2000, 20_000, `load running in ${c.variant}`),
        ),
      );

      for (const fault of plan) {
        await delay(between(300, 1200)); // the seeded schedule between faults
        if (fault === 'B') {
          let alive = slots.filter((s) => !s.restarting);
          // Keep at least one instance up: wait for a restart when two are down.
          if (alive.length <= 1) {
            await Promise.race(slots.flatMap((s) => (s.restarting ? [s.restarting] : [])));
            alive = slots.filter((s) => !s.restarting);
          }
          const slot = alive[Math.floor(random() * alive.length)]!;
          const downtimeMs = between(300, 1500);
          const samePort = random() < 0.5;
          const oldPort = slot.handle.port;
          const record: KillRecord = { variant: slot.variant, killAt: Date.now(), exitAt: 0, downtimeMs, samePort };
          kills.push(record);
          await slot.handle.kill('SIGKILL');
          record.exitAt = Date.now();
          const restart = (async () => {
            await delay(Math.max(0, record.killAt + downtimeMs - Date.now()));
            const marks = callers.map((c) => c.mark());
            const handle = await startWorker(slot.front, workerConfig(slot.variant, samePort ? oldPort : undefined));
            slot.handle = handle;
            await handle.waitForEvent('connected', undefined, 30_000);
            record.registeredAt = (await loadStats(handle)).events.find((e) => e.name === 'connected')!.at;
            // Back in service once every caller has it in rotation again (only then may it be a victim again).
            await Promise.all(
              callers.map((c, i) =>
                c.waitForEvent(
                  'peer.connected',
                  (p) => p.variant === slot.variant && p.direction === 'outgoing',
                  20_000,
                  marks[i],
                ),
              ),
            );
          })();
          slot.restarting = restart.finally(() => {
            slot.restarting = undefined;
          });
          restarts.push(restart);
        } else {
          const record: ManagerRecord = { killAt: Date.now(), downtimeMs: between(200, 1000), readyAt: 0, reRegisteredAt: {} };
          managerRestarts.push(record);
          await manager.kill('SIGKILL');
          await delay(record.downtimeMs);
          manager = await startManager('nest', { port: managerPort, logLevel: 'error' });
          record.readyAt = Date.now();
          // The registry rebuilds from the workers re-registering (an instance restarting meanwhile included).
          const expected = () =>
            [...callers.map((c) => c.variant), ...slots.filter((s) => !s.restarting).map((s) => s.variant)].sort();
          await waitFor(
            async () => {
              const listed = new Set((await registry(manager)).map((e) => e.variant));
              return expected().every((v) => listed.has(v));
            },
            20_000,
            'the restarted manager to list every live worker',
            50,
          );
          record.rebuiltAt = Date.now();
          for (const w of [...callers, ...slots.filter((s) => !s.restarting).map((s) => s.handle)]) {
            const first = (await loadStats(w)).events.find((e) => e.name === 'connected' && e.at >= record.killAt);
            if (first) record.reRegisteredAt[w.variant] = first.at;
          }
        }
      }
      await Promise.all(restarts);

      // Healed: every caller reaches all three instances, and every restarted one answered it.
      await Promise.all(
        callers.map((c) =>
          waitForPeers(
            c,
            'NodeB',
            slots.map((s) => s.variant),
            20_000,
          ),
        ),
      );
      const lastKillOf = (variant: string) => kills.filter((k) => k.variant === variant).at(-1);
      await Promise.all(
        callers.map((c) =>
          waitFor(
            async () => {
              const run = (await loadStats(c, 'chaos')).run!;
              return slots.every((s) => {
                const k = lastKillOf(s.variant);
                return !k || (run.byVariant[s.variant]?.lastAt ?? 0) > k.registeredAt!;
              });
            },
            10_000,
            `${c.variant} to get answers from every restarted instance`,
          ),
        ),
      );
    } finally {
      await Promise.all(callers.filter((c) => c.process.alive).map((c) => stopLoad(c, 'chaos').catch(() => undefined)));
      const settled = await settledLoads;
      summaries = settled.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
    }

    const finalRegistry = (await registry(manager)).map((e) => e.variant).sort();
    const all = mergeSummaries(summaries);
    // What each caller saw, timed in the caller itself.
    const callerEvents = await Promise.all(callers.map(async (c) => (await loadStats(c)).events));

    // Per kill, per caller: when its link to the instance went down, and came up again after the restart.
    const seen = kills.map((k) =>
      callerEvents.map((events) => {
        const outgoing = (e: LocalMeshEvent) => e.variant === k.variant && e.direction === 'outgoing';
        const down = events.find((e) => e.name === 'peer.disconnected' && outgoing(e) && e.at >= k.killAt);
        // The next link up after it went down: to the restarted process (on its old port the
        // caller may re-dial it before it even registered).
        const up = events.find((e) => e.name === 'peer.connected' && outgoing(e) && e.at >= (down?.at ?? k.killAt));
        return { downAt: down?.at, upAt: up?.at };
      }),
    );
    // Calls in flight on a killed instance when it died: sent to it, never answered, failed when
    // the caller's socket to it closed (the link's 'down', reported in the same tick as it fails them).
    const inFlightFailures = kills.map((k, i) =>
      summaries.flatMap((s, ci) => {
        const downAt = seen[i]![ci]!.downAt ?? Number.POSITIVE_INFINITY;
        return s.failures
          .filter((f) => hits(f, k.variant) && f.endedAt >= k.killAt && f.startedAt < downAt)
          .map((f) => ({ code: f.code, inner: f.inner, afterKillMs: f.endedAt - k.killAt, afterCloseMs: f.endedAt - downAt }));
      }),
    );
    // "Ready" for a caller: the restarted instance registered, and so did the caller with the
    // manager of that moment (after a manager restart a caller still backing off cannot hear of it).
    const readyFor = (k: KillRecord, ci: number) => {
      const managerSince = Math.max(0, ...managerRestarts.map((m) => m.killAt).filter((t) => t <= k.registeredAt!));
      const callerBack = callerEvents[ci]!.find((e) => e.name === 'connected' && e.at >= managerSince)?.at ?? 0;
      return Math.max(k.registeredAt!, callerBack);
    };
    // The restart's first answer: the first after a silence that began with the kill (a restart
    // on its old port may be re-dialed and answer even before it registered: then this is <= 0).
    const rejoinMs = kills.map((k) =>
      summaries.map((s, ci) => {
        const v = s.byVariant[k.variant];
        const nextKill = kills.find((n) => n.variant === k.variant && n.killAt > k.killAt)?.killAt ?? Number.POSITIVE_INFINITY;
        const resumed = v ? [v.firstAt, ...v.resumes].find((t) => t >= k.killAt && t < nextKill) : undefined;
        return resumed === undefined ? undefined : resumed - readyFor(k, ci);
      }),
    );
    const worst = (xs: number[]) => (xs.length === 0 ? '-' : Math.max(...xs));

    console.log(
      [
        `CHAOS seed=${SEED}: faults injected ${kills.length + managerRestarts.length} ` +
          `(${kills.length} NodeB SIGKILL + restart, ${managerRestarts.length} manager SIGKILL + restart), plan ${plan.join('')}`,
        describeSummary('outcomes', all),
        'NodeB kills:',
        ...kills.map(
          (k, i) =>
            `  ${k.variant}: down ${k.downtimeMs} ms, back on ${k.samePort ? 'its old' : 'a new'} port; callers' sockets closed ${seen[i]!.map((s) => (s.downAt === undefined ? '-' : s.downAt - k.killAt)).join('/')} ms after SIGKILL; ` +
            `in-flight calls failed ${inFlightFailures[i]!.length}, the last ${worst(inFlightFailures[i]!.map((f) => f.afterCloseMs))} ms after its socket closed ` +
            `(${worst(inFlightFailures[i]!.map((f) => f.afterKillMs))} ms after SIGKILL); ` +
            `answered again ${rejoinMs[i]!.map((ms) => (ms === undefined ? '-' : ms)).join('/')} ms after being ready`,
        ),
        'manager restarts:',
        ...managerRestarts.map(
          (m) =>
            `  down ${m.downtimeMs} ms; registry rebuilt ${m.rebuiltAt! - m.readyAt} ms after the new manager was ready; ` +
            `workers re-registered (backoff with jitter) ${Object.entries(m.reRegisteredAt)
              .map(([v, at]) => `${v} ${at - m.killAt}`)
              .join(', ')} ms after the kill`,
        ),
      ].join('\n'),
    );

    // Outcomes: only the three codes, nothing mixed up, nothing lost or duplicated, nothing hung.
    expect(all.mismatchSamples).toEqual([]);
    expect(all.duplicates).toBe(0);
    expect(all.settled).toBe(all.calls);
    expect(all.ok + Object.values(all.byCode).reduce((a, b) => a + b, 0)).toBe(all.calls);
    expect(Object.keys(all.byCode).filter((c) => !ALLOWED.includes(c) && c !== 'MESH_PARTIAL_FAILURE')).toEqual([]);
    expect(Object.keys(all.partialInner).filter((c) => !ALLOWED.includes(c))).toEqual([]);
    expect(all.maxLatencyMs).toBeLessThan(CALL_TIMEOUT_MS + SCHEDULING_SLACK_MS);
    expect(all.ok).toBeGreaterThan(all.calls * 0.9);
    expect(all.failuresDropped).toBe(0);

    for (const [i, k] of kills.entries()) {
      // In flight on the killed instance: MESH_PEER_DISCONNECTED (not a timeout), within 100 ms of the socket closing.
      for (const f of inFlightFailures[i]!) {
        const codes = f.inner ? f.inner.filter((x) => x.variant === k.variant).map((x) => x.code) : [f.code];
        expect(codes).toEqual(['MESH_PEER_DISCONNECTED']);
        expect(f.afterCloseMs).toBeLessThanOrEqual(IN_FLIGHT_FAIL_MS);
      }
      callers.forEach((c, ci) => {
        const { downAt, upAt } = seen[i]![ci]!;
        // Every caller noticed the kill (its link went down)…
        expect(downAt).toBeDefined();
        // …and from then on no call went to the dead instance until it was back.
        const late = summaries[ci]!.failures.filter(
          (f) => hits(f, k.variant) && f.startedAt > downAt! && f.startedAt < (upAt ?? Number.POSITIVE_INFINITY),
        );
        expect(upAt).toBeDefined();
        expect(late).toEqual([]);
        // The restart took traffic from this caller within 2 s of registering.
        expect(rejoinMs[i]![ci]).toBeDefined();
        expect(rejoinMs[i]![ci]!).toBeLessThanOrEqual(REJOIN_MS);
      });
    }

    // Manager restarts: everybody re-registered, the registry was rebuilt, and nobody connected noticed.
    for (const m of managerRestarts) {
      expect(m.rebuiltAt).toBeDefined();
      for (const c of callers) expect(m.reRegisteredAt[c.variant]).toBeDefined();
    }
    expect(finalRegistry).toEqual([...callers.map((c) => c.variant), ...slots.map((s) => s.variant)].sort());
    for (const events of callerEvents) {
      const unexplained = events.filter(
        (e) =>
          e.name === 'peer.disconnected' &&
          !kills.some((k) => k.variant === e.variant && e.at >= k.killAt && e.at <= k.registeredAt!),
      );
      expect(unexplained).toEqual([]);
    }
    for (const s of slots) {
      // No NodeB instance ever lost a caller (callers never died; manager restarts must not cut links).
      expect(s.handle.history.filter((r) => r.name === 'peer.disconnected')).toEqual([]);
    }
  }, 150_000);
});

/** Did this failure come from `variant` (directly, or as one instance inside a broadcast)? */
function hits(f: { variant?: string; inner?: { code: string; variant?: string }[] }, variant: string): boolean {
  return f.variant === variant || (f.inner?.some((x) => x.variant === variant) ?? false);
}
