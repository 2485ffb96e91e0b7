/**
 * `node build/bench/tracing.js [--rounds=N] [--duration=ms] [--modes=api,sdk] [--c=64] [--cpu-prof=dir]`: the cost of OpenTelemetry on a
 * balanced call, c=64 throughput and c=1 latency, one caller and one callee process, in three
 * modes: 'absent' (@opentelemetry/* not resolvable), 'api' (API installed, no SDK registered:
 * "tracing off") and 'sdk' (SDK registered, every span sampled, metrics recorded). Fresh
 * processes for every run; the modes' order rotates each round. See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manager } from '../lib/core/manager.js';
import { BENCH_KEYS, managerLogger } from './config.js';
import { repoRoot } from './machine.js';
import { spread, type Spread } from './stats.js';

const MODES = ['absent', 'api', 'sdk'] as const;
type Mode = (typeof MODES)[number];
const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: number): number => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.split('=')[1]) : fallback;
};
const rounds = arg('rounds', 3);
const durationMs = arg('duration', 3000);
const text = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** A subset of the modes (the ratio column then needs 'absent' among them). */
const modes = (text('modes')?.split(',') as Mode[] | undefined) ?? [...MODES];
/** Writes one .cpuprofile per process (caller and callee) of every run into this directory. */
const profileDir = text('cpu-prof');
const concurrencies = text('c')?.split(',').map(Number) ?? [64, 1];

function child(mode: Mode, role: 'callee' | 'caller', managerPort: number, concurrency: number): ChildProcess {
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${mode}-c${concurrency}-${role}.cpuprofile`]
    : [];
  // TRACING_EXEC_ARGV: more node flags for the child processes (e.g. an --import that counts frames).
  const extra = process.env.TRACING_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
  return spawn(process.execPath, [...profile, ...extra, join(here, 'tracing-node.js')], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      TRACING_MODE: mode,
      TRACING_ROLE: role,
      TRACING_MANAGER_PORT: String(managerPort),
      TRACING_C: String(concurrency),
      TRACING_DURATION_MS: String(durationMs),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

async function firstLine(proc: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of proc.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) return out.split('\n')[0]!;
  }
  throw new Error(`process exited without output (${out})`);
}

async function runOnce(
  mode: Mode,
  managerPort: number,
  concurrency: number,
): Promise<{ perSec: number; p50Us: number; cpuUs: number }> {
  const callee = child(mode, 'callee', managerPort, concurrency);
  if ((await firstLine(callee)) !== 'ready') throw new Error('callee did not start');
  const caller = child(mode, 'caller', managerPort, concurrency);
  const result = JSON.parse(await firstLine(caller)) as { calls: number; ms: number; p50Us: number; cpuUs: number };
  await once(caller, 'exit');
  callee.stdin!.end();
  await once(callee, 'exit');
  return { perSec: (result.calls / result.ms) * 1000, p50Us: result.p50Us, cpuUs: result.cpuUs };
}

async function main(): Promise<void> {
  const manager = new Manager({ ...BENCH_KEYS, port: 0, host: '127.0.0.1', logger: managerLogger() });
  await manager.ready();
  const results: Record<string, { perSec: number[]; p50Us: number[]; cpuUs: number[] }> = {};
  try {
    for (let round = 0; round < rounds; round++) {
      const order = [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)];
      for (const concurrency of concurrencies) {
        for (const mode of order) {
          const m = await runOnce(mode, manager.port, concurrency);
          const row = (results[`${mode} c=${concurrency}`] ??= { perSec: [], p50Us: [], cpuUs: [] });
          row.perSec.push(m.perSec);
          row.p50Us.push(m.p50Us);
          row.cpuUs.push(m.cpuUs);
          process.stderr.write(
            `  r${round + 1} ${mode.padEnd(6)} c=${concurrency}  ${m.perSec.toFixed(0)} calls/s  p50 ${m.p50Us.toFixed(0)} µs  caller CPU ${m.cpuUs.toFixed(1)} µs/call\n`,
          );
        }
      }
    }
  } finally {
    await manager.close();
  }
  const fmt = (s: Spread | undefined, digits = 0) =>
    s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : '-';
  const lines = [
    '| mode | c | calls/s median (min–max) | ÷ absent | p50 µs median | caller CPU µs/call median |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const concurrency of concurrencies) {
    const absent = results[`absent c=${concurrency}`];
    const base = absent ? spread(absent.perSec)!.median : undefined;
    for (const mode of modes) {
      const row = results[`${mode} c=${concurrency}`]!;
      const perSec = spread(row.perSec);
      const ratio = base ? (perSec!.median / base).toFixed(3) : '-';
      lines.push(
        `| ${mode} | ${concurrency} | ${fmt(perSec)} | ${ratio} | ${fmt(spread(row.p50Us))} | ${fmt(spread(row.cpuUs), 1)} |`,
      );
    }
  }
  const table = lines.join('\n');
  console.log(table);
  const out = join(repoRoot(), 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tracing.json'), JSON.stringify({ rounds, durationMs, results, table }, null, 2));
}

await main();
