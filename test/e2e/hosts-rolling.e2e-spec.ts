/**
 * Rolling deploy across hosts (network namespaces this suite creates and removes,
 * 198.18.5.0/24): every NodeB instance, each on its own host, is restarted one after the other
 * while NodeA calls with `retries`: no call fails.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { runLoad, stopLoad } from '../reliability-harness.js';
import { NetnsLab, netnsUnavailable, type LabHost } from '../support/netns.js';
import { killAll, startManager, startWorker, stopAll, type WorkerHandle } from '../support/mesh-process.js';

const why = netnsUnavailable();
if (why) console.warn(`hosts-rolling: skipped: ${why}`);
const describeHosts = why ? describe.skip : describe;

describeHosts('across hosts: rolling deploy', () => {
  const lab = new NetnsLab(5);

  afterAll(async () => {
    await stopAll().catch(() => killAll());
    lab.destroy();
  });

  it('restarting every NodeB host one by one under load with retries: 0 failed calls', async () => {
    const hosts = lab.create(5);
    const [hm, ha, ...hb] = hosts as [LabHost, LabHost, ...LabHost[]];
    const manager = await startManager('plain', { netns: hm.ns, logLevel: 'warn' });
    const common = { manager: { host: hm.ip, port: manager.port }, logLevel: 'warn' as const, drainTimeout: 2000 };
    const startB = (i: number) =>
      startWorker('plain', {
        ...common,
        worker: 'NodeB',
        variant: `b${i}`,
        allow: ['NodeA'],
        advertiseHost: hb[i]!.ip,
        netns: hb[i]!.ns,
      });
    const nodes: WorkerHandle[] = [];
    for (let i = 0; i < hb.length; i++) nodes.push(await startB(i));
    const a1 = await startWorker('plain', {
      ...common,
      worker: 'NodeA',
      variant: 'a1',
      connect: ['NodeB'],
      advertiseHost: ha.ip,
      netns: ha.ns,
    });
    for (let i = 0; i < hb.length; i++) await a1.waitForEvent('peer.connected', (p) => p.variant === `b${i}`, 20_000);

    const load = runLoad(
      a1,
      {
        tag: 'rolling',
        worker: 'NodeB',
        command: 'slow',
        slowMs: 20,
        concurrency: 8,
        durationMs: 120_000,
        options: { retries: 3, timeout: 10_000 },
      },
      180_000,
    );
    for (let i = 0; i < hb.length; i++) {
      const since = a1.mark();
      await nodes[i]!.stop();
      nodes[i] = await startB(i);
      await a1.waitForEvent('peer.connected', (p) => p.variant === `b${i}` && p.direction === 'outgoing', 20_000, since);
    }
    await stopLoad(a1, 'rolling');
    const summary = await load;
    console.log(
      `rolling deploy over ${hb.length} hosts: ${summary.calls} calls, ${summary.ok} ok, failures ${JSON.stringify(summary.byCode)}`,
    );
    expect(summary.calls).toBeGreaterThan(100);
    expect(summary.byCode).toEqual({});
    expect(summary.ok).toBe(summary.calls);
  }, 180_000);
});
