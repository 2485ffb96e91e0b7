/**
 * Several managers, on separate hosts (network namespaces this suite creates and removes,
 * 198.18.3.0/24 and 198.18.4.0/24): every worker registers with both; killing one changes
 * nothing for calls or discovery; a restarted one is complete again within 2 s. Both fronts.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { NetnsLab, netnsUnavailable, type LabHost } from '../support/netns.js';
import {
  killAll,
  startManager,
  startWorker,
  stopAll,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
} from '../support/mesh-process.js';

const why = netnsUnavailable();
if (why) console.warn(`hosts-managers: skipped: ${why}`);
const describeHosts = why ? describe.skip : describe;

describeHosts.each([
  ['plain', 3],
  ['nest', 4],
] as [Front, number][])('across hosts: two managers (%s)', (front, subnet) => {
  const lab = new NetnsLab(subnet);

  afterAll(async () => {
    await stopAll().catch(() => killAll());
    lab.destroy();
  });

  it('one manager killed: calls and discovery go on; restarted, it is complete again within 2 s', async () => {
    const hosts: LabHost[] = lab.create(6);
    const [h1, h2, hb1, ha1, hb2, hb3] = hosts as [LabHost, LabHost, LabHost, LabHost, LabHost, LabHost];
    let m1: ManagerHandle = await startManager(front, { netns: h1.ns, logLevel: 'warn' });
    const m2 = await startManager(front, { netns: h2.ns, logLevel: 'warn' });
    const managers = [
      { host: h1.ip, port: m1.port },
      { host: h2.ip, port: m2.port },
    ];
    const common = { manager: managers, logLevel: 'warn' as const };
    const nodeB = (variant: string, host: LabHost) =>
      startWorker(front, { ...common, worker: 'NodeB', variant, allow: ['NodeA'], advertiseHost: host.ip, netns: host.ns });
    const b1 = await nodeB('b1', hb1);
    const a1: WorkerHandle = await startWorker(front, {
      ...common,
      worker: 'NodeA',
      variant: 'a1',
      connect: ['NodeB'],
      advertiseHost: ha1.ip,
      netns: ha1.ns,
    });
    await a1.waitForEvent('peer.connected', (p) => p.variant === 'b1', 20_000);
    // Registered with both managers: one 'connected' per manager.
    for (const w of [a1, b1])
      await w.waitForEvent('connected', () => w.history.filter((r) => r.name === 'connected').length >= 2, 10_000);

    await m1.kill('SIGKILL');
    for (let i = 0; i < 20; i++)
      await expect(a1.callOk('NodeB', 'status', { test: `m1-down-${i}` })).resolves.toMatchObject({ variant: 'b1' });
    // A NodeB started while m1 is down is discovered through m2.
    const discovered = Date.now();
    await nodeB('b2', hb2);
    await a1.waitForEvent('peer.connected', (p) => p.variant === 'b2', 15_000);
    console.log(`${front}: new NodeB discovered through the remaining manager in ${Date.now() - discovered} ms`);
    await expect(a1.callOk('NodeB', 'status', { test: 'b2' }, { only: 'b2' })).resolves.toMatchObject({ variant: 'b2' });

    // m1 back on its port: every worker registers with it again within 2 s of it listening.
    const marks = new Map([a1, b1].map((w) => [w, w.mark()]));
    m1 = await startManager(front, { netns: h1.ns, logLevel: 'warn', port: managers[0]!.port });
    const back = Date.now();
    const times = await Promise.all(
      [...marks].map(([w, since]) => w.waitForEvent('connected', () => true, 10_000, since).then((r) => r.at - back)),
    );
    console.log(`${front}: restarted manager complete again after ${Math.max(...times)} ms`);
    expect(Math.max(...times)).toBeLessThanOrEqual(2000);

    // Now m2 goes: m1 alone knows everyone, and a NodeB started now is discovered through it.
    await m2.kill('SIGKILL');
    await nodeB('b3', hb3);
    await a1.waitForEvent('peer.connected', (p) => p.variant === 'b3', 15_000);
    const answered = new Set<string>();
    for (let i = 0; i < 30; i++)
      answered.add((await a1.callOk<{ variant: string }>('NodeB', 'status', { test: `m2-down-${i}` })).variant);
    expect([...answered].sort()).toEqual(['b1', 'b2', 'b3']);
  }, 120_000);
});
