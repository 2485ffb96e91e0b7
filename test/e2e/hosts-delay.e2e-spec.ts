/**
 * Delay and loss between hosts (network namespaces this suite creates and removes,
 * 198.18.6.0/24). This kernel has no netem, so a small TCP proxy (test/fixtures/delay-proxy.ts)
 * runs in NodeB's host in front of its mesh port: NodeB binds 127.0.0.1 there and advertises
 * the host's address, where the proxy listens on the same port (the namespace is new, so the
 * port is free by construction). The proxy delays every chunk, stalls some as a retransmission
 * would, or holds everything for a while (a burst of loss).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NetnsLab, netnsUnavailable, type LabHost } from '../support/netns.js';
import {
  FixtureProcess,
  REPO_ROOT,
  killAll,
  startManager,
  startWorker,
  stopAll,
  type WorkerHandle,
} from '../support/mesh-process.js';
import type { DelayProxyConfig } from '../fixtures/delay-proxy.js';

const why = netnsUnavailable();
if (why) console.warn(`hosts-delay: skipped: ${why}`);
const describeHosts = why ? describe.skip : describe;

const MESH_PORT = 4100;
const ONE_WAY_MS = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

describeHosts('across hosts: delay and loss (a proxy, no netem here)', () => {
  const lab = new NetnsLab(6);
  let hosts: LabHost[];
  let proxy: FixtureProcess;
  let nodeA: WorkerHandle;

  const proxyCall = async (command: string, payload?: unknown): Promise<Record<string, number>> => {
    const result = await proxy.request({ type: 'call', worker: 'proxy', command, payload }, 5000);
    if (!result.ok) throw new Error(`proxy ${command} failed`);
    return result.value as Record<string, number>;
  };

  beforeAll(async () => {
    hosts = lab.create(3);
    const [managerHost, bHost, aHost] = hosts as [LabHost, LabHost, LabHost];
    const manager = await startManager('plain', { netns: managerHost.ns, logLevel: 'warn' });
    const common = { manager: { host: managerHost.ip, port: manager.port }, logLevel: 'warn' as const };
    await startWorker('plain', {
      ...common,
      worker: 'NodeB',
      variant: 'b1',
      allow: ['NodeA'],
      bindHost: '127.0.0.1',
      meshPort: MESH_PORT,
      advertiseHost: bHost.ip,
      netns: bHost.ns,
    });
    const config: DelayProxyConfig = {
      listenHost: bHost.ip,
      listenPort: MESH_PORT,
      targetHost: '127.0.0.1',
      targetPort: MESH_PORT,
      delayMs: ONE_WAY_MS,
      stallChance: 0.03,
      stallMs: 300,
      seed: Number(process.env.MESH_SEED ?? 7),
    };
    proxy = new FixtureProcess('delay-proxy', 'worker', `${REPO_ROOT}/build/test/fixtures/delay-proxy.js`, config, bHost.ns);
    await proxy.waitReady();
    nodeA = await startWorker('plain', {
      ...common,
      worker: 'NodeA',
      variant: 'a1',
      connect: ['NodeB'],
      advertiseHost: aHost.ip,
      netns: aHost.ns,
    });
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b1', 20_000);
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop().catch(() => proxy.kill());
    await stopAll().catch(() => killAll());
    lab.destroy();
  });

  it(`${ONE_WAY_MS} ms each way and 3 % of chunks stalled 300 ms: every call answers, the link holds`, async () => {
    const since = nodeA.mark();
    const before = await proxyCall('stats');
    const latencies: number[] = [];
    for (let i = 0; i < 80; i++) {
      const started = Date.now();
      await expect(nodeA.callOk('NodeB', 'status', { test: i }, { timeout: 3000 })).resolves.toMatchObject({ variant: 'b1' });
      latencies.push(Date.now() - started);
    }
    latencies.sort((x, y) => x - y);
    const after = await proxyCall('stats');
    console.log(
      `delay ${ONE_WAY_MS} ms each way: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, ` +
        `${after.stalled! - before.stalled!} chunks stalled`,
    );
    // Both directions went through the proxy: a call costs at least the round trip it adds.
    expect(percentile(latencies, 50)).toBeGreaterThanOrEqual(2 * ONE_WAY_MS);
    expect(nodeA.history.slice(since).filter((r) => r.name === 'peer.disconnected')).toEqual([]);
  }, 60_000);

  it('a 1.5 s burst of loss (shorter than heartbeatTimeout): calls in flight answer late, the link is not dropped', async () => {
    const since = nodeA.mark();
    await proxyCall('blackout', { ms: 1500 });
    const started = Date.now();
    const answers = await Promise.all(
      [1, 2, 3].map((i) => nodeA.callOk('NodeB', 'status', { test: `burst-${i}` }, { timeout: 5000 })),
    );
    const ms = Date.now() - started;
    console.log(`3 calls through a 1.5 s burst of loss answered after ${ms} ms`);
    expect(answers).toHaveLength(3);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(nodeA.history.slice(since).filter((r) => r.name === 'peer.disconnected')).toEqual([]);
  }, 30_000);

  it('a 6 s burst of loss: the link drops within 5 s and is back within 3 s of its end', async () => {
    const since = nodeA.mark();
    const { until } = await proxyCall('blackout', { ms: 6000 });
    const lost = await nodeA.waitForEvent('peer.disconnected', (p) => p.variant === 'b1', 10_000, since);
    const noticed = lost.at - (until! - 6000);
    console.log(`a 6 s burst of loss noticed after ${noticed} ms`);
    expect(noticed).toBeLessThanOrEqual(5000);
    const back = await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b1', 15_000, since);
    console.log(`link back ${back.at - until!} ms after the burst ended`);
    expect(back.at - until!).toBeLessThanOrEqual(3000);
    await expect(nodeA.callOk('NodeB', 'status', { test: 'after' }, { timeout: 3000 })).resolves.toMatchObject({
      variant: 'b1',
    });
  }, 40_000);
});
