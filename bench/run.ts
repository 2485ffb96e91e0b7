/**
 * `npm run bench [-- --quick | --profile | --only=<scenario ids>,idle]`: socket-mesh against raw socket.io / BullMQ on
 * loopback, real processes, runs interleaved (mesh, raw, mesh, raw, ...), one table at the end,
 * also written to bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manager } from '../lib/core/manager.js';
import { BENCH_KEYS, managerLogger, REDIS } from './config.js';
import { Fleet, type Impl } from './fleet.js';
import { measureIdle, type IdleMetrics } from './idle-memory.js';
import { describeMachine, machineInfo, repoRoot } from './machine.js';
import { measure, type RunMetrics } from './measure.js';
import { runProfile } from './profile.js';
import { deletePrefix, probeRedis } from './redis.js';
import { buildRows, renderTable, type CallResults } from './report.js';
import { plan as makePlan, type Scenario } from './scenarios.js';

const IMPLS: Impl[] = ['mesh', 'raw'];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function progress(s: Scenario, impl: Impl, round: number, m: RunMetrics): string {
  const main = s.latency ? `p50 ${m.p50Us!.toFixed(0)} µs p99 ${m.p99Us!.toFixed(0)} µs` : `${m.callsPerSec.toFixed(0)} calls/s`;
  const errors = m.errors > 0 ? `  ${m.errors} ERRORS (${m.firstError})` : '';
  return `  r${round} ${impl.padEnd(4)} ${s.id.padEnd(20)} ${main}  cpu ${m.cpuCallerUs.toFixed(1)}+${m.cpuCalleeUs.toFixed(1)} µs/call${errors}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const profile = args.find((a) => a === '--profile' || a.startsWith('--profile='));
  if (profile) return runProfile(profile.split('=')[1]);
  const started = performance.now();
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const plan = makePlan(args.includes('--quick'), only);
  const redisVersion = await probeRedis(REDIS.host, REDIS.port);
  const machine = machineInfo(redisVersion);
  log(`socket-mesh bench (${plan.name}: ${plan.rounds} rounds, A=socket-mesh B=raw interleaved)\n${describeMachine(machine)}`);
  const notes: string[] = [];
  if (!redisVersion) notes.push(`Redis did not answer at ${REDIS.host}:${REDIS.port}: the queued-redis rows are skipped.`);
  const prefix = `smbench-${process.pid}-${Date.now().toString(36)}`;
  const redis = redisVersion ? { ...REDIS, prefix } : undefined;

  const calls: CallResults = {};
  let clean = true;
  const fleet = await Fleet.start({ redis });
  try {
    for (const phase of ['single', 'group'] as const) {
      const scenarios = plan.scenarios.filter((s) => s.phase === phase && fleet.supports(s.target));
      if (scenarios.length === 0) continue;
      const phaseStart = performance.now();
      if (phase === 'group') await fleet.grow();
      for (let round = 1; round <= plan.rounds; round++) {
        for (const s of scenarios) {
          for (const impl of IMPLS) {
            const m = await measure(fleet, impl, s, plan, round === 1 ? plan.firstWarmupMs : plan.warmupMs);
            (calls[s.id] ??= { mesh: [], raw: [] })[impl].push(m);
            log(progress(s, impl, round, m));
            if (m.errors > 0)
              notes.push(`${s.label} (${impl}, round ${round}): ${m.errors} of ${m.calls} calls failed, first: ${m.firstError}`);
          }
        }
      }
      log(
        `  (${phase === 'single' ? 'one callee' : 'three callees'}: ${((performance.now() - phaseStart) / 1000).toFixed(0)} s)`,
      );
    }
  } finally {
    clean = (await fleet.stop()) && clean;
  }

  // Idle connections: fresh processes per round, under a manager of their own.
  const idleStart = performance.now();
  const idle: { mesh: IdleMetrics[]; raw: IdleMetrics[] } = { mesh: [], raw: [] };
  const manager = new Manager({ ...BENCH_KEYS, port: 0, host: '127.0.0.1', logger: managerLogger() });
  await manager.ready();
  try {
    for (let round = 1; round <= plan.idle.rounds; round++) {
      for (const impl of IMPLS) {
        const m = await measureIdle(manager, impl, plan.idle.peers, round);
        idle[impl].push(m);
        log(
          `  r${round} ${impl.padEnd(4)} idle-${plan.idle.peers}-links       RSS callee ${m.calleeRssKiBPerLink.toFixed(0)} + caller side ${m.callerRssKiBPerLink.toFixed(0)} KiB/link, heap ${m.heapKiBPerLink.toFixed(0)} KiB/link`,
        );
      }
    }
  } finally {
    await manager.close();
  }
  log(`  (idle links: ${((performance.now() - idleStart) / 1000).toFixed(0)} s)`);

  if (redis) {
    const keys = await deletePrefix(redis.host, redis.port, prefix);
    log(`  removed ${keys} Redis keys under ${prefix}:`);
  }

  const rows = buildRows(plan, calls, plan.idle.rounds > 0 ? idle : undefined);
  const seconds = (performance.now() - started) / 1000;
  const table = renderTable(rows);
  const lines = [
    '',
    `socket-mesh vs raw socket.io — ${plan.name} run, ${plan.rounds} interleaved rounds per row (idle memory: ${plan.idle.rounds}), ${seconds.toFixed(0)} s`,
    describeMachine(machine),
    `mesh÷raw is socket-mesh's median divided by raw's: above 1 is better for calls/s, below 1 is better for µs, KiB and MiB.`,
    '',
    table,
    ...notes.map((n) => `note: ${n}`),
  ];
  console.log(lines.join('\n'));

  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), plan, machine, seconds, rows, runs: calls, idle, notes, table }, null, 2)}\n`,
  );
  log(`results written to ${file}`);
  if (!clean) {
    log('some bench process did not exit cleanly (see above)');
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  // Children still running are killed by the exit hook of ipc.ts.
  process.exit(1);
});
