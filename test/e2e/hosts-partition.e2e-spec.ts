/**
 * Nodes on separate hosts (network namespaces this suite creates and removes): a silent
 * partition of one NodeB host must take it out of NodeA's rotation within seconds, and the
 * link must come back soon after the heal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NetnsLab, netnsUnavailable, type LabHost } from '../support/netns.js';
import { startManager, startWorker, stopAll, killAll, type ManagerHandle, type WorkerHandle } from '../support/mesh-process.js';
import { waitFor } from '../support/wait-for.js';

const why = netnsUnavailable();
if (why) console.warn(`hosts-partition: skipped: ${why}`);
const describeHosts = why ? describe.skip : describe;

describeHosts('across hosts: silent partition', () => {
  const lab = new NetnsLab(1);
  let hosts: LabHost[];
  let nodeA: WorkerHandle;
  let manager: ManagerHandle;

  beforeAll(async () => {
    hosts = lab.create(4);
    manager = await startManager('plain', { netns: hosts[0]!.ns });
    const address = { host: hosts[0]!.ip, port: manager.port };
    const common = { manager: address, logLevel: 'warn' as const };
    await startWorker('plain', {
      ...common,
      worker: 'NodeB',
      variant: 'b1',
      allow: ['NodeA'],
      advertiseHost: hosts[1]!.ip,
      netns: hosts[1]!.ns,
    });
    await startWorker('plain', {
      ...common,
      worker: 'NodeB',
      variant: 'b2',
      allow: ['NodeA'],
      advertiseHost: hosts[2]!.ip,
      netns: hosts[2]!.ns,
    });
    nodeA = await startWorker('plain', {
      ...common,
      worker: 'NodeA',
      variant: 'a1',
      connect: ['NodeB'],
      advertiseHost: hosts[3]!.ip,
      netns: hosts[3]!.ns,
    });
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b1', 15_000);
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b2', 15_000);
  }, 60_000);

  afterAll(async () => {
    await stopAll().catch(() => killAll());
    lab.destroy();
  });

  it('reaches both NodeB hosts through the lab network', async () => {
    const peers = await nodeA.peers('NodeB');
    expect(peers.map((p) => p.host).sort()).toEqual([hosts[1]!.ip, hosts[2]!.ip]);
    await expect(nodeA.callOk('NodeB', 'status', { test: 'x' })).resolves.toBeDefined();
  });

  it('notices a silent partition of one NodeB host (its callers, and the manager)', async () => {
    const since = nodeA.mark();
    const dropsBefore = manager.output().split('NodeB/b2 disconnected').length;
    const cut = Date.now();
    lab.partition(hosts[2]!);
    await nodeA.waitForEvent('peer.disconnected', (p) => p.variant === 'b2', 60_000, since);
    const noticed = Date.now() - cut;
    console.log(`partition noticed after ${noticed} ms`);
    expect(noticed).toBeLessThanOrEqual(5000);
    // The manager pings the worker's process too (one heartbeat per pair of processes) and drops it.
    await waitFor(() => manager.output().split('NodeB/b2 disconnected').length > dropsBefore, 10_000, 'the manager to drop b2');
    const managerNoticed = Date.now() - cut;
    console.log(`manager dropped the partitioned worker after ${managerNoticed} ms`);
    expect(managerNoticed).toBeLessThanOrEqual(5500);
    const healed = Date.now();
    const mark = nodeA.mark();
    lab.heal(hosts[2]!);
    await nodeA.waitForEvent('peer.connected', (p) => p.variant === 'b2', 30_000, mark);
    const back = Date.now() - healed;
    console.log(`link back ${back} ms after the heal`);
    expect(back).toBeLessThanOrEqual(3000);
  }, 90_000);
});
