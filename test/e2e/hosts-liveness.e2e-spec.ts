/**
 * Nodes on separate hosts (network namespaces this suite creates and removes, 198.18.2.0/24):
 * a hung or stopped instance leaves balanced rotation after its threshold of timeouts, a 10 s
 * partition heals within seconds, close() ends the process within drainTimeout + 1 s during
 * and after a partition, and bindHost binds the mesh server to one address only.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as scenario } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NetnsLab, netnsUnavailable, type LabHost } from '../support/netns.js';
import { killAll, startManager, startWorker, stopAll, type ManagerHandle, type WorkerHandle } from '../support/mesh-process.js';

const why = netnsUnavailable();
if (why) console.warn(`hosts-liveness: skipped: ${why}`);
const describeHosts = why ? describe.skip : describe;

const DRAIN = 1000;

/** Sequential calls for `ms` (a scenario duration, not a synchronisation): how many failed, by code. */
async function callFor(
  node: WorkerHandle,
  ms: number,
  options: Record<string, unknown>,
): Promise<{ ok: number; failed: string[] }> {
  const out = { ok: 0, failed: [] as string[] };
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await node.call('NodeB', 'status', { test: 'x' }, options);
    if (r.ok) out.ok++;
    else out.failed.push(r.error.code ?? r.error.message);
  }
  return out;
}

/** The local addresses listening on `port` inside the host's namespace. */
function listeners(host: LabHost, port: number): string[] {
  const out = execFileSync('/usr/sbin/ip', ['netns', 'exec', host.ns, 'ss', '-ltnH'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((local): local is string => typeof local === 'string' && local.endsWith(`:${port}`));
}

async function timeToExit(handle: { stop(): Promise<unknown> }): Promise<number> {
  const started = Date.now();
  await handle.stop();
  return Date.now() - started;
}

describeHosts('across hosts: liveness, heal, close', () => {
  const lab = new NetnsLab(2);
  let hosts: LabHost[];
  let manager: ManagerHandle;
  let nodeA: WorkerHandle;
  let b1: WorkerHandle;
  let b3: WorkerHandle;

  beforeAll(async () => {
    hosts = lab.create(6);
    manager = await startManager('plain', { netns: hosts[0]!.ns, logLevel: 'warn' });
    const common = { manager: { host: hosts[0]!.ip, port: manager.port }, logLevel: 'warn' as const, drainTimeout: DRAIN };
    const nodeB = (variant: string, host: LabHost, extra: Record<string, unknown> = {}) =>
      startWorker('plain', {
        ...common,
        worker: 'NodeB',
        variant,
        allow: ['NodeA'],
        advertiseHost: host.ip,
        netns: host.ns,
        ...extra,
      });
    b1 = await nodeB('b1', hosts[1]!);
    await nodeB('b2', hosts[2]!, { hangStatus: true });
    b3 = await nodeB('b3', hosts[4]!);
    nodeA = await startWorker('plain', {
      ...common,
      worker: 'NodeA',
      variant: 'a1',
      connect: ['NodeB'],
      advertiseHost: hosts[3]!.ip,
      netns: hosts[3]!.ns,
    });
    for (const v of ['b1', 'b2', 'b3']) await nodeA.waitForEvent('peer.connected', (p) => p.variant === v, 20_000);
  }, 90_000);

  afterAll(async () => {
    await stopAll().catch(() => killAll());
    lab.destroy();
  });

  it('a NodeB whose handler hangs costs its threshold of timeouts plus one probe per cool-down, not every other call', async () => {
    const { ok, failed } = await callFor(nodeA, 3000, { timeout: 400, exclude: 'b3' });
    console.log(`hung instance: ${ok} answered, ${failed.length} failed (${failed.join(', ')}) in 3 s`);
    expect(failed.every((code) => code === 'MESH_TIMEOUT')).toBe(true);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.length).toBeLessThanOrEqual(3); // 2 to open the breaker, at most one probe after the 2 s cool-down
    expect(ok).toBeGreaterThan(20);
  }, 30_000);

  it('a SIGSTOPped NodeB leaves rotation after two timeouts and its link drops on the heartbeat', async () => {
    const since = nodeA.mark();
    const stopped = Date.now();
    b3.process.child.kill('SIGSTOP');
    try {
      const { ok, failed } = await callFor(nodeA, 6000, { timeout: 400, exclude: 'b2' });
      console.log(`stopped instance: ${ok} answered, ${failed.length} failed (${failed.join(', ')}) in 6 s`);
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(failed.length).toBeLessThanOrEqual(4); // 2 + at most one probe per 2 s cool-down until the heartbeat drops the link
      const lost = await nodeA.waitForEvent('peer.disconnected', (p) => p.variant === 'b3', 10_000, since);
      console.log(`stopped instance dropped after ${lost.at - stopped} ms`);
      expect(lost.at - stopped).toBeLessThanOrEqual(5000);
    } finally {
      b3.process.child.kill('SIGCONT');
    }
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b3', 10_000, since);
  }, 40_000);

  it('a 10 s partition: noticed within 5 s, link back within 3 s of the heal', async () => {
    const since = nodeA.mark();
    const cut = Date.now();
    lab.partition(hosts[1]!);
    await nodeA.waitForEvent('peer.disconnected', (p) => p.variant === 'b1', 10_000, since);
    console.log(`10 s partition noticed after ${Date.now() - cut} ms`);
    expect(Date.now() - cut).toBeLessThanOrEqual(5000);
    await scenario(Math.max(0, 10_000 - (Date.now() - cut)));
    const mark = nodeA.mark();
    const healed = Date.now();
    lab.heal(hosts[1]!);
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b1', 15_000, mark);
    const back = Date.now() - healed;
    console.log(`link back ${back} ms after a 10 s partition healed`);
    expect(back).toBeLessThanOrEqual(3000);
    await expect(nodeA.callOk('NodeB', 'status', { test: 'healed' }, { only: 'b1' })).resolves.toMatchObject({ variant: 'b1' });
  }, 40_000);

  it('bindHost: the mesh server listens on that address only', async () => {
    const host = hosts[5]!;
    const bound = await startWorker('plain', {
      manager: { host: hosts[0]!.ip, port: manager.port },
      logLevel: 'warn',
      worker: 'NodeB',
      variant: 'b-bound',
      allow: ['NodeA'],
      bindHost: host.ip,
      netns: host.ns,
    });
    expect(listeners(host, bound.port)).toEqual([`${host.ip}:${bound.port}`]);
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b-bound', 15_000);
    await bound.stop();
  }, 30_000);

  it('close() during a partition: the node and the manager exit within drainTimeout + 1 s', async () => {
    lab.partition(hosts[1]!);
    const nodeMs = await timeToExit(b1);
    console.log(`NodeB closed during its partition in ${nodeMs} ms (drainTimeout ${DRAIN})`);
    expect(nodeMs).toBeLessThanOrEqual(DRAIN + 1000);
    lab.partition(hosts[0]!);
    const managerMs = await timeToExit(manager);
    console.log(`manager closed during its partition in ${managerMs} ms`);
    expect(managerMs).toBeLessThanOrEqual(DRAIN + 1000);
  }, 30_000);

  it('close() after a partition: NodeA (links to a host that vanished) exits within drainTimeout + 1 s', async () => {
    const ms = await timeToExit(nodeA);
    console.log(`NodeA closed after the partition in ${ms} ms`);
    expect(ms).toBeLessThanOrEqual(DRAIN + 1000);
  }, 30_000);
});
