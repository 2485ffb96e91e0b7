/**
 * Scale bench (`npm run bench:scale`): how long 10, 100 and 1,000 NodeA instances (spread over
 * up to 10 processes) take to register and to be fully linked to 10 NodeB instances (2
 * processes), the manager's RSS at each size, and how fast a killed manager is complete again.
 * Everything on 127.0.0.1.
 */
import { BenchChild } from './ipc.js';
import type { ScaleHostConfig, ScaleHostReport } from './scale-host.js';
import type { ScaleManagerReady } from './scale-manager.js';

const SIZES = (process.argv.includes('--quick') ? [10, 100] : [10, 100, 1000]) as number[];
const CALLEES = 10;
const CALLEE_PROCESSES = 2;
const MAX_CALLER_PROCESSES = 10;

interface Row {
  instances: number;
  processes: number;
  registeredMs: number;
  linkedMs: number;
  links: number;
  managerRssMiB: number;
  restartMs?: number;
  /** Topology messages the manager sent per registration, and workers it compared per registration. */
  messagesPerJoin: number;
  checksPerJoin: number;
}

async function startManager(port = 0): Promise<{ child: BenchChild; ready: ScaleManagerReady }> {
  return BenchChild.start<ScaleManagerReady>('scale-manager', 'scale-manager', { port }, { readyTimeoutMs: 30_000 });
}

async function joinCost(child: BenchChild): Promise<{ messagesPerJoin: number; checksPerJoin: number }> {
  const stats = await child.request<{ registrations: number; topologyMessages: number; topologyChecks: number }>('stats');
  return {
    messagesPerJoin: stats.topologyMessages / stats.registrations,
    checksPerJoin: stats.topologyChecks / stats.registrations,
  };
}

async function runSize(instances: number): Promise<Row> {
  const manager = await startManager();
  const callerProcesses = Math.min(MAX_CALLER_PROCESSES, Math.max(1, Math.ceil(instances / 100)));
  const hosts: { child: BenchChild; role: 'NodeA' | 'NodeB' }[] = [];
  for (let p = 0; p < CALLEE_PROCESSES; p++) {
    const config: ScaleHostConfig = { worker: 'NodeB', count: CALLEES / CALLEE_PROCESSES, prefix: `b${p}` };
    hosts.push({ child: (await BenchChild.start(`callee-${p}`, 'scale-host', config)).child, role: 'NodeB' });
  }
  for (let p = 0; p < callerProcesses; p++) {
    const count = Math.floor(instances / callerProcesses) + (p < instances % callerProcesses ? 1 : 0);
    const config: ScaleHostConfig = { worker: 'NodeA', count, prefix: `a${p}` };
    hosts.push({ child: (await BenchChild.start(`caller-${p}`, 'scale-host', config)).child, role: 'NodeA' });
  }
  const args = { managerPort: manager.ready.port, expectPeers: CALLEES };
  const t0 = performance.now();
  const reports = await Promise.all(
    hosts.map((h) =>
      h.child.request<ScaleHostReport>('start', args, 300_000).then((r) => ({ ...r, offset: performance.now() - t0 })),
    ),
  );
  const callers = reports.filter((_, i) => hosts[i]!.role === 'NodeA');
  const row: Row = {
    instances,
    processes: callerProcesses + CALLEE_PROCESSES,
    registeredMs: Math.max(...reports.map((r) => r.registeredMs)),
    linkedMs: Math.max(...callers.map((r) => r.linkedMs)),
    links: instances * CALLEES,
    managerRssMiB: (await manager.child.request<number>('rss')) / 1048576,
    ...(await joinCost(manager.child)),
  };
  // Manager restart: kill -9, same port, time until the registry is complete again.
  const total = instances + CALLEES;
  await manager.child.kill();
  const restarted = await startManager(manager.ready.port);
  row.restartMs = await restarted.child.request<number>('waitRegistered', { n: total, timeoutMs: 120_000 }, 130_000);
  await Promise.all(hosts.map((h) => h.child.stop(60_000)));
  await restarted.child.stop();
  return row;
}

const rows: Row[] = [];
for (const size of SIZES) {
  const row = await runSize(size);
  console.log(JSON.stringify(row));
  rows.push(row);
}
console.log(
  '\n| NodeA instances | processes | all registered | fully linked | links | manager RSS | manager restart: complete again | topology messages / join | workers compared / join |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.instances} | ${r.processes} | ${(r.registeredMs / 1000).toFixed(2)} s | ${(r.linkedMs / 1000).toFixed(2)} s | ${r.links} | ${r.managerRssMiB.toFixed(0)} MiB | ${r.restartMs === undefined ? '–' : (r.restartMs / 1000).toFixed(2) + ' s'} | ${r.messagesPerJoin.toFixed(2)} | ${r.checksPerJoin.toFixed(1)} |`,
  );
}
