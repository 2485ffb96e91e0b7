/**
 * Scale bench (`npm run bench:scale`): how long 10, 100 and 1,000 NodeA instances (spread over
 * up to 10 processes) take to register and to be fully linked to 10 NodeB instances (2
 * processes), the manager's RSS at each size, and how fast a killed manager is complete again.
 * Everything on 127.0.0.1.
 *
 * `--quick`: 10 and 100 only; `--sizes=100,1000`: those sizes; `--timeout=<s>`: how long a size
 * may take to link (default 300); `--verbose`: what the first callee and caller process logged
 * while linking, by message shape; `--profile`: the manager, the first callee and the first caller
 * process run under `--cpu-prof` (profiles in /tmp/socket-mesh-prof/, summarised at the end;
 * the manager is then stopped rather than killed, so its profile is written).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchChild } from './ipc.js';
import type { ScaleHostConfig, ScaleHostReport } from './scale-host.js';
import type { ScaleManagerReady } from './scale-manager.js';
import { formatSummary, summarize } from './profile-summary.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SIZES = arg('sizes')?.split(',').map(Number) ?? (process.argv.includes('--quick') ? [10, 100] : [10, 100, 1000]);
const LINK_TIMEOUT_MS = Number(arg('timeout') ?? 300) * 1000;
const PROFILE_DIR = process.argv.includes('--profile')
  ? join('/tmp', 'socket-mesh-prof', `scale-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  : undefined;
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
/** `--cpu-prof` for a process when profiling, named after it. */
const profiled = (name: string): string[] =>
  PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
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
  /** CPU seconds of every process (manager, callees, callers) from the start until fully linked. */
  linkCpuS: number;
  /** CPU seconds of every process from the manager's restart (once it listens) until complete again. */
  restartCpuS?: number;
  /** Topology messages the restarted manager sent per registration until complete again (workers come back in any order). */
  restartMessagesPerJoin?: number;
  /** CPU seconds per second the whole linked mesh uses with no calls (heartbeats). */
  idleCpuPerS?: number;
  /** Topology messages the manager sent per registration, and workers it compared per registration. */
  messagesPerJoin: number;
  checksPerJoin: number;
}

async function startManager(port = 0, name = 'manager'): Promise<{ child: BenchChild; ready: ScaleManagerReady }> {
  return BenchChild.start<ScaleManagerReady>(
    name,
    'scale-manager',
    { port },
    {
      readyTimeoutMs: 30_000,
      execArgv: profiled(name),
    },
  );
}

async function joinCost(child: BenchChild): Promise<{ messagesPerJoin: number; checksPerJoin: number }> {
  const stats = await child.request<{ registrations: number; topologyMessages: number; topologyChecks: number }>('stats');
  return {
    messagesPerJoin: stats.topologyMessages / stats.registrations,
    checksPerJoin: stats.topologyChecks / stats.registrations,
  };
}

/** Total CPU seconds `children` used so far. */
function cpuOf(children: BenchChild[]): Promise<number> {
  return Promise.all(children.map((c) => c.request<number>('cpu'))).then((ms) => ms.reduce((a, b) => a + b, 0) / 1000);
}

async function runSize(instances: number): Promise<Row> {
  const manager = await startManager(0, `manager-${instances}`);
  const callerProcesses = Math.min(MAX_CALLER_PROCESSES, Math.max(1, Math.ceil(instances / 100)));
  const hosts: { child: BenchChild; role: 'NodeA' | 'NodeB' }[] = [];
  for (let p = 0; p < CALLEE_PROCESSES; p++) {
    const config: ScaleHostConfig = { worker: 'NodeB', count: CALLEES / CALLEE_PROCESSES, prefix: `b${p}` };
    const name = `callee-${p}`;
    const opts = { execArgv: p === 0 ? profiled(`${name}-${instances}`) : [] };
    hosts.push({ child: (await BenchChild.start(name, 'scale-host', config, opts)).child, role: 'NodeB' });
  }
  for (let p = 0; p < callerProcesses; p++) {
    const count = Math.floor(instances / callerProcesses) + (p < instances % callerProcesses ? 1 : 0);
    const config: ScaleHostConfig = { worker: 'NodeA', count, prefix: `a${p}` };
    const name = `caller-${p}`;
    const opts = { execArgv: p === 0 ? profiled(`${name}-${instances}`) : [] };
    hosts.push({ child: (await BenchChild.start(name, 'scale-host', config, opts)).child, role: 'NodeA' });
  }
  const cpuAtStart = await Promise.all(hosts.map((h) => h.child.request<number>('cpu')));
  const hostCpuAtStart = cpuAtStart.reduce((a, b) => a + b, 0) / 1000;
  const managerCpuAtStart = await cpuOf([manager.child]);
  const args = { managerPort: manager.ready.port, expectPeers: CALLEES };
  const t0 = performance.now();
  const reports = await Promise.all(
    hosts.map((h) =>
      h.child.request<ScaleHostReport>('start', args, LINK_TIMEOUT_MS).then((r) => ({ ...r, offset: performance.now() - t0 })),
    ),
  ).catch(async (err: Error) => {
    // Say where it stands before giving up: instances registered and links up, per process.
    const where = await Promise.all(hosts.map((h) => h.child.request('progress', undefined, 10_000).catch(() => undefined)));
    console.error(`[scale] ${instances}: ${err.message}; progress per process:`);
    for (const [i, w] of where.entries()) console.error(`  ${hosts[i]!.child.name}: ${JSON.stringify(w)}`);
    await Promise.all(hosts.map((h) => h.child.stop(60_000)));
    await manager.child.stop();
    throw err;
  });
  const hostCpuLinked = await cpuOf(hosts.map((h) => h.child));
  // Where the CPU went, per process (the first callee holds 5 NodeB instances, half the incoming links).
  const perProcess = await Promise.all(hosts.map((h) => h.child.request<number>('cpu')));
  console.log(
    `[scale] ${instances}: CPU s per process to link: ${hosts.map((h, i) => `${h.child.name} ${((perProcess[i]! - cpuAtStart[i]!) / 1000).toFixed(1)}`).join(', ')}`,
  );
  if (process.argv.includes('--verbose')) {
    for (const h of [hosts[0]!, hosts[CALLEE_PROCESSES]!]) {
      console.error(`[scale] ${instances}: ${h.child.name} logged ${JSON.stringify(await h.child.request('progress'))}`);
    }
  }
  const linkCpuS = hostCpuLinked - hostCpuAtStart + (await cpuOf([manager.child])) - managerCpuAtStart;
  const callers = reports.filter((_, i) => hosts[i]!.role === 'NodeA');
  const row: Row = {
    instances,
    processes: callerProcesses + CALLEE_PROCESSES,
    registeredMs: Math.max(...reports.map((r) => r.registeredMs)),
    linkedMs: Math.max(...callers.map((r) => r.linkedMs)),
    links: instances * CALLEES,
    linkCpuS,
    managerRssMiB: (await manager.child.request<number>('rss')) / 1048576,
    ...(await joinCost(manager.child)),
  };
  // Background CPU of the linked mesh (heartbeats of every link), over 3 s of no calls.
  const idleFrom = await cpuOf([...hosts.map((h) => h.child), manager.child]);
  const idleT0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  row.idleCpuPerS =
    ((await cpuOf([...hosts.map((h) => h.child), manager.child])) - idleFrom) / ((performance.now() - idleT0) / 1000);
  // Manager restart: kill -9, same port, time until the registry is complete again.
  const total = instances + CALLEES;
  const hostCpuBefore = await cpuOf(hosts.map((h) => h.child));
  // Profiling: stopped instead, so that its profile is written; the workers see it go either way.
  await (PROFILE_DIR ? manager.child.stop() : manager.child.kill());
  const restarted = await startManager(manager.ready.port, `manager-restarted-${instances}`);
  const restartedCpuAtReady = await cpuOf([restarted.child]);
  // A restart that does not complete must still stop every process (they would hold the bench lock).
  try {
    row.restartMs = await restarted.child
      .request<number>('waitRegistered', { n: total, timeoutMs: 120_000 }, 130_000)
      .catch(async (err: Error) => {
        const where = await Promise.all(hosts.map((h) => h.child.request('progress', undefined, 10_000).catch(() => undefined)));
        console.error(`[scale] ${instances}: restart: ${err.message}; progress per process:`);
        for (const [i, w] of where.entries()) console.error(`  ${hosts[i]!.child.name}: ${JSON.stringify(w)}`);
        throw err;
      });
    row.restartCpuS =
      (await cpuOf(hosts.map((h) => h.child))) - hostCpuBefore + (await cpuOf([restarted.child])) - restartedCpuAtReady;
    row.restartMessagesPerJoin = (await joinCost(restarted.child)).messagesPerJoin;
  } finally {
    await Promise.all(hosts.map((h) => h.child.stop(60_000)));
    await restarted.child.stop();
  }
  return row;
}

const rows: Row[] = [];
for (const size of SIZES) {
  const row = await runSize(size).catch((err: Error) => {
    console.error(`[scale] ${size} instances: ${err.message}`);
    return undefined;
  });
  if (!row) continue;
  console.log(JSON.stringify(row));
  rows.push(row);
}
console.log(
  '\n| NodeA instances | processes | all registered | fully linked | CPU s to link | links | idle CPU s / s | manager RSS | manager restart: complete again | CPU s to restart | topology messages / join | workers compared / join |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.instances} | ${r.processes} | ${(r.registeredMs / 1000).toFixed(2)} s | ${(r.linkedMs / 1000).toFixed(2)} s | ${r.linkCpuS.toFixed(1)} | ${r.links} | ${r.idleCpuPerS === undefined ? '–' : r.idleCpuPerS.toFixed(2)} | ${r.managerRssMiB.toFixed(0)} MiB | ${r.restartMs === undefined ? '–' : (r.restartMs / 1000).toFixed(2) + ' s'} | ${r.restartCpuS === undefined ? '–' : r.restartCpuS.toFixed(1)} | ${r.messagesPerJoin.toFixed(2)} | ${r.checksPerJoin.toFixed(1)} |`,
  );
}

if (PROFILE_DIR) {
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile'))) {
    console.log(`\n## ${file}\n${formatSummary(summarize(join(PROFILE_DIR, file)))}`);
  }
  console.log(`\nprofiles in ${PROFILE_DIR}`);
}
