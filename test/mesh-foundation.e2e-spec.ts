/**
 * The mesh's foundations with real processes (compiled fixtures, forked), once per front:
 * a manager, two NodeB instances (allow NodeA), NodeA and NodeC (both connect NodeB).
 *
 * The steps share one mesh and run in order: each starts from the state the previous one left.
 * MESH_FRONTS=plain (or nest) restricts the run to one front, explicitly; a front whose compiled
 * fixture is missing fails with the file it looked for.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from './support/free-port.js';
import {
  assertFixtures,
  killAll,
  startManager,
  startWorker,
  stopAll,
  TEST_KEYS,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
  type WorkerStartConfig,
} from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

const ALL_FRONTS = ['plain', 'nest'] as const;
const requested = process.env.MESH_FRONTS?.split(',')
  .map((f) => f.trim())
  .filter(Boolean);
const fronts: readonly Front[] = requested ? ALL_FRONTS.filter((front) => requested.includes(front)) : ALL_FRONTS;
if (fronts.length === 0)
  throw new Error(`MESH_FRONTS=${process.env.MESH_FRONTS} names no known front (${ALL_FRONTS.join(', ')})`);

afterAll(async () => {
  await stopAll();
  await killAll();
}, 30_000);

describe.each(fronts)('mesh foundation (%s front)', (front) => {
  let manager: ManagerHandle;
  let managerPort: number;
  let b1: WorkerHandle;
  let b2: WorkerHandle;
  let a: WorkerHandle;
  let c: WorkerHandle;
  const b1Variant = `${front}-NodeB-1`;
  let b1MeshPort: number;

  const nodeB = (extra: Partial<WorkerStartConfig> = {}): WorkerStartConfig => ({
    worker: 'NodeB',
    manager: { host: '127.0.0.1', port: managerPort },
    advertiseHost: '127.0.0.1',
    allow: ['NodeA'],
    connect: [],
    ...extra,
  });
  const caller = (worker: string, extra: Partial<WorkerStartConfig> = {}): WorkerStartConfig => ({
    worker,
    manager: { host: '127.0.0.1', port: managerPort },
    advertiseHost: '127.0.0.1',
    allow: [],
    connect: ['NodeB'],
    ...extra,
  });
  const variantsOf = async (w: WorkerHandle, worker = 'NodeB') => (await w.peers(worker)).map((p) => p.variant).sort();

  beforeAll(async () => {
    // Fail loudly, naming the missing file, rather than skip a front.
    assertFixtures(front);
    managerPort = await freePort();
    b1MeshPort = await freePort();
    manager = await startManagerOn(front, managerPort);
    [b1, b2, a, c] = await Promise.all([
      startWorker(front, nodeB({ variant: b1Variant, meshPort: b1MeshPort })),
      startWorker(front, nodeB({ variant: `${front}-NodeB-2` })),
      startWorker(front, caller('NodeA', { variant: `${front}-NodeA` })),
      startWorker(front, caller('NodeC', { variant: `${front}-NodeC` })),
    ]);
    await Promise.all([b1, b2, a, c].map((w) => w.waitForEvent('connected', undefined, 15_000)));
  }, 60_000);

  afterAll(async () => {
    // Graceful first: a process that does not exit after close() leaked a handle.
    const killed = await stopAll();
    await killAll();
    expect(killed).toEqual([]);
  }, 30_000);

  it('NodeA lists both NodeB instances within seconds', async () => {
    const started = Date.now();
    await waitFor(async () => (await a.peers('NodeB')).length === 2, 5000, 'NodeA to list two NodeB');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await variantsOf(a)).toEqual([b1.variant, b2.variant].sort());
    for (const b of [b1, b2]) {
      await b.waitForEvent('peer.connected', (p) => p.worker === 'NodeA' && p.direction === 'incoming', 5000);
    }
  });

  it('NodeC, not allowed by NodeB, is never connected and gets MESH_ACCESS_DENIED', async () => {
    const result = await c.call('NodeB', 'status', { test: 'x' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('MESH_ACCESS_DENIED');
    expect(await c.peers('NodeB')).toEqual([]);
    expect(c.history.filter((e) => e.name === 'peer.connected')).toEqual([]);
    for (const b of [b1, b2]) {
      expect(b.history.filter((e) => e.name === 'peer.connected' && e.payload.worker === 'NodeC')).toEqual([]);
    }
  });

  it('20 sequential balanced calls alternate between the two instances', async () => {
    const answered: string[] = [];
    for (let i = 0; i < 20; i++) {
      const value = await a.callOk<{ status: string; variant: string }>('NodeB', 'status', { test: `n${i}` });
      expect(value.status).toBe(`ok n${i}`);
      answered.push(value.variant);
    }
    for (let i = 1; i < answered.length; i++) expect(answered[i]).not.toBe(answered[i - 1]);
    expect(answered.filter((v) => v === b1.variant)).toHaveLength(10);
    expect(answered.filter((v) => v === b2.variant)).toHaveLength(10);
  });

  it('a responding broadcast returns one answer per instance', async () => {
    const answers = await a.callOk<{ command: string; variant: string }[]>('NodeB', 'collect', { test: 'data' });
    expect(answers).toHaveLength(2);
    expect(answers.map((x) => x.command)).toEqual(['data', 'data']);
    expect(answers.map((x) => x.variant).sort()).toEqual([b1.variant, b2.variant].sort());
  });

  it('a failing handler gives MESH_REMOTE_ERROR at once, with the remote message', async () => {
    const started = Date.now();
    const result = await a.call('NodeB', 'fail', { message: 'broken on purpose' }, { timeout: 8000 });
    const elapsed = Date.now() - started;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('MESH_REMOTE_ERROR');
    expect(result.error.message).toContain('broken on purpose');
    expect(elapsed).toBeLessThan(1000);
  });

  it('1,000 concurrent echo calls all come back with their own payloads', async () => {
    const payloads = Array.from({ length: 1000 }, (_, i) => ({ id: `req-${i}`, n: i, text: 'x'.repeat(i % 50) }));
    const results = await Promise.all(payloads.map((p) => a.call('NodeB', 'echo', p, { timeout: 20_000 })));
    const failures = results.filter((r) => !r.ok);
    expect(failures).toEqual([]);
    results.forEach((r, i) => expect(r.ok && r.value).toEqual(payloads[i]));
  });

  it('a NodeB with the wrong keys is refused, says why, and never appears in peers', async () => {
    const managerLogFrom = manager.output().length;
    const intruder = await startWorker(
      front,
      nodeB({ variant: `${front}-NodeB-intruder`, privateKey: `${TEST_KEYS.privateKey}-wrong` }),
    );
    try {
      // Each side names the reason: the keys.
      await waitFor(
        () => /refused.*keys/i.test(intruder.output()) && /refused.*keys/i.test(manager.output().slice(managerLogFrom)),
        10_000,
        'the refusal (and its reason) to be logged by both sides',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nintruder:\n${intruder.output()}\nmanager:\n${manager.output().slice(managerLogFrom)}`);
      });
      expect(intruder.output()).toMatch(/the manager refused this worker: .*no key in common, the two sides hold other keys/i);
      expect(intruder.history.filter((e) => e.name === 'connected')).toEqual([]);
      expect(await variantsOf(a)).toEqual([b1.variant, b2.variant].sort());
    } finally {
      await intruder.kill();
    }
    expect(await variantsOf(a)).not.toContain(intruder.variant);
  });

  it('kill -9 of a NodeB mid-call fails the call at once and drops it from the peers within 2 s', async () => {
    const markA = a.mark();
    // Requests on one link arrive in order: once the echo sent after `slow` is answered, `slow` runs on b1.
    const slow = a.call('NodeB', 'slow', { ms: 15_000 }, { only: [b1.variant], timeout: 20_000 });
    await a.callOk('NodeB', 'echo', { after: 'slow' }, { only: [b1.variant] });

    const killedAt = Date.now();
    await b1.kill('SIGKILL');
    const result = await slow;
    const failedAfter = Date.now() - killedAt;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('MESH_PEER_DISCONNECTED');
    expect(failedAfter).toBeLessThan(2000);

    await waitFor(async () => !(await variantsOf(a)).includes(b1.variant), 2000, `${b1.variant} to leave NodeA's peers`);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    await a.waitForEvent('peer.disconnected', (p) => p.variant === b1.variant, 2000, markA);

    // The survivor takes every call.
    for (let i = 0; i < 3; i++) {
      expect(await a.callOk<{ variant: string }>('NodeB', 'status', { test: 'left' })).toMatchObject({ variant: b2.variant });
    }
  });

  it('a restarted NodeB (same variant) rejoins without anyone restarting', async () => {
    const markA = a.mark();
    b1 = await startWorker(front, nodeB({ variant: b1Variant, meshPort: b1MeshPort }));
    expect(b1.variant).toBe(b1Variant);
    await b1.waitForEvent('connected', undefined, 10_000);
    await a.waitForEvent('peer.connected', (p) => p.variant === b1Variant, 10_000, markA);
    await waitFor(async () => (await variantsOf(a)).length === 2, 5000, 'NodeA to list two NodeB again');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await a.callOk<{ variant: string }>('NodeB', 'status', { test: 'back' })).variant);
    expect([...seen].sort()).toEqual([b1.variant, b2.variant].sort());
  });

  it('with the manager gone, NodeA and NodeB keep talking', async () => {
    await manager.kill('SIGKILL');
    expect(await variantsOf(a)).toEqual([b1.variant, b2.variant].sort());
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++)
      seen.add((await a.callOk<{ variant: string }>('NodeB', 'status', { test: 'no manager' })).variant);
    expect([...seen].sort()).toEqual([b1.variant, b2.variant].sort());
    const answers = await a.callOk<unknown[]>('NodeB', 'collect', { test: 'no manager' });
    expect(answers).toHaveLength(2);
  });

  it('a manager restarted on the same port gets every worker back', async () => {
    const marks = new Map([a, b1, b2, c].map((w) => [w, w.mark()]));
    manager = await startManagerOn(front, managerPort);
    expect(manager.port).toBe(managerPort);
    await Promise.all([a, b1, b2, c].map((w) => w.waitForEvent('connected', undefined, 20_000, marks.get(w))));
    expect(await variantsOf(a)).toEqual([b1.variant, b2.variant].sort());
    expect((await a.callOk<{ status: string }>('NodeB', 'status', { test: 'again' })).status).toBe('ok again');
    const denied = await c.call('NodeB', 'status', { test: 'x' });
    expect(!denied.ok && denied.error.code).toBe('MESH_ACCESS_DENIED');
  });
});

describe.each(fronts)('manager discovery (%s front)', (front) => {
  afterAll(async () => {
    const killed = await stopAll();
    await killAll();
    expect(killed).toEqual([]);
  }, 30_000);

  it('workers given the manager URL find its socket port over HTTP', async () => {
    assertFixtures(front);
    const manager = await startManager(front, {});
    expect(manager.httpPort).toEqual(expect.any(Number));
    const response = await fetch(`http://127.0.0.1:${manager.httpPort}/socket-mesh/port`);
    expect(await response.json()).toEqual({ port: manager.port });
    const url = `http://127.0.0.1:${manager.httpPort}`;
    const [b, a] = await Promise.all([
      startWorker(front, { worker: 'NodeB', manager: { url }, allow: ['NodeA'], connect: [] }),
      startWorker(front, { worker: 'NodeA', manager: { url }, allow: [], connect: ['NodeB'] }),
    ]);
    await Promise.all([a, b].map((w) => w.waitForEvent('connected', undefined, 15_000)));
    // Registered is not linked: NodeA learns of NodeB from the manager's next topology.
    await a.waitForEvent('peer.connected', (p) => p.variant === b.variant, 5000);
    expect(await a.callOk('NodeB', 'status', { test: 'found' })).toEqual({ status: 'ok found', variant: b.variant });
  });
});

function startManagerOn(front: Front, port: number): Promise<ManagerHandle> {
  return startManager(front, { port });
}
