/**
 * `npm run bench -- --profile[=<scenario id>]`: one balanced scenario (default
 * balanced-c64-small) under `node --cpu-prof`, socket-mesh then raw, each for a few seconds; the
 * callers' and callees' profiles go to /tmp/socket-mesh-prof/<time>/ (outside git) and are
 * summarised here.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fleet, type Impl } from './fleet.js';
import { measure, type RunMetrics } from './measure.js';
import { REDIS } from './config.js';
import { formatSummary, summarize } from './profile-summary.js';
import { deletePrefix, probeRedis } from './redis.js';
import { plan as makePlan, type Plan } from './scenarios.js';

const PROFILE_MS = 6_000;

export async function runProfile(scenarioId = 'balanced-c64-small'): Promise<void> {
  const dir = join('/tmp', 'socket-mesh-prof', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const scenario = makePlan(false).scenarios.find((s) => s.id === scenarioId);
  if (!scenario)
    throw new Error(
      `--profile takes a scenario id of scenarios.ts (balanced-c64-small, responding-c64, ...), not '${scenarioId}'`,
    );
  const prefix = `smbench-prof-${process.pid}`;
  const redis =
    scenario.target === 'queued-redis' && (await probeRedis(REDIS.host, REDIS.port)) ? { ...REDIS, prefix } : undefined;
  if (scenario.target === 'queued-redis' && !redis) throw new Error(`Redis does not answer at ${REDIS.host}:${REDIS.port}`);
  const profiled = new Set(['mesh-caller', 'mesh-callee-1', 'raw-caller', 'raw-callee-1']);
  const fleet = await Fleet.start({
    redis,
    execArgv: (name) =>
      profiled.has(name)
        ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`, '--cpu-prof-interval=200']
        : [],
  });
  const plan: Plan = { ...makePlan(false), warmupMs: 1000, throughputMs: PROFILE_MS, latencyMs: PROFILE_MS };
  console.log(`profiling ${scenario.label} for ${PROFILE_MS} ms per side into ${dir}`);
  const results = {} as Record<Impl, RunMetrics>;
  try {
    if (scenario.phase === 'group') await fleet.grow();
    for (const impl of ['mesh', 'raw'] as const) {
      results[impl] = await measure(fleet, impl, scenario, plan);
      const m = results[impl];
      const latency = m.p50Us === undefined ? '' : `, p50 ${m.p50Us.toFixed(0)} µs`;
      console.log(
        `${impl}: ${m.callsPerSec.toFixed(0)} calls/s${latency}, CPU ${m.cpuCallerUs.toFixed(1)} µs/call caller + ${m.cpuCalleeUs.toFixed(1)} µs/call callee`,
      );
    }
  } finally {
    await fleet.stop();
    if (redis) await deletePrefix(redis.host, redis.port, prefix);
  }
  // Only the samples of the measured run count (the window each process reported on its own
  // monotonic clock, which is the profiles' time base).
  const windows: Record<string, { window: { fromUs: number; toUs: number }; calls: number }> = {
    'mesh-caller': { window: results.mesh.windows[0], calls: results.mesh.calls },
    'mesh-callee-1': { window: results.mesh.windows[1], calls: results.mesh.calls },
    'raw-caller': { window: results.raw.windows[0], calls: results.raw.calls },
    'raw-callee-1': { window: results.raw.windows[1], calls: results.raw.calls },
  };
  writeFileSync(join(dir, 'windows.json'), JSON.stringify(windows));
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const w = windows[file.replace(/\.cpuprofile$/, '')];
    console.log(`\n${formatSummary(summarize(join(dir, file), w?.window), { calls: w?.calls })}`);
  }
  console.log(`\nprofiles in ${dir}`);
}
