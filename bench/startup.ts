/**
 * `node build/bench/startup.js [--rounds=N] [--list] [--dist]`: start-up times, each in fresh
 * processes, interleaved round by round. Times are ms since the process started.
 *
 * - import 'socket-mesh/plain' and the main entry (lib/plain.js, lib/index.js)
 * - a plain SocketNode registered with a manager
 * - a bare Nest application context ready, and a Nest socket-mesh worker registered
 *
 * `--list` also prints the packages each case loaded (to check that BullMQ, ioredis and the
 * optional integrations stay unloaded until used). `--dist` loads socket-mesh from the published
 * bundle (dist/, made by `npm run build`) instead of tsc's output in build/lib.
 */
import { fork } from 'node:child_process';
import { scrypt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Manager } from '../lib/core/manager.js';
import { SCRYPT_PARAMS } from '../lib/core/crypto/mesh-keys.js';
import { BENCH_KEYS, managerLogger } from './config.js';
import type { StartupConfig, StartupMode, StartupResult } from './startup-child.js';
import { median } from './stats.js';

const MODES: { mode: StartupMode; label: string }[] = [
  { mode: 'import-plain', label: "import 'socket-mesh/plain'" },
  { mode: 'import-main', label: "import 'socket-mesh' (main entry)" },
  { mode: 'plain-node', label: 'plain SocketNode registered' },
  { mode: 'nest-bare', label: 'bare Nest application context ready' },
  { mode: 'nest-worker', label: 'Nest socket-mesh worker registered' },
];

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 7);
const list = args.includes('--list');
const dist = args.includes('--dist');
const child = fileURLToPath(new URL('./startup-child.js', import.meta.url));

function runChild(config: StartupConfig): Promise<StartupResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(child, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    let result: StartupResult | undefined;
    proc.once('message', (m: StartupResult) => (result = m));
    proc.once('error', reject);
    proc.once('exit', (code) =>
      result && code === 0 ? resolve(result) : reject(new Error(`${config.mode}: exit code ${code}`)),
    );
  });
}

const manager = new Manager({ ...BENCH_KEYS, port: 0, host: '127.0.0.1', logger: managerLogger() });
await manager.ready();
try {
  const samples = new Map<StartupMode, { done: number[]; own: number[]; cpu: number[] }>(
    MODES.map((m) => [m.mode, { done: [], own: [], cpu: [] }]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const { mode } of MODES) {
      const r = await runChild({ mode, managerPort: manager.port, list: false, dist });
      samples.get(mode)!.done.push(r.doneMs);
      samples.get(mode)!.own.push(r.doneMs - r.startMs);
      samples.get(mode)!.cpu.push(r.cpuMs);
    }
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(
    `start-up of socket-mesh from ${dist ? 'dist/ (the bundle)' : 'build/lib (tsc output)'}, ${rounds} fresh processes per row, median (min–max), ms; node ${process.version}`,
  );
  console.log('| case | since process start | of which the measured step | CPU used by then |');
  console.log('| --- | --- | --- | --- |');
  for (const { mode, label } of MODES) {
    const s = samples.get(mode)!;
    console.log(`| ${label} | ${fmt(s.done)} | ${fmt(s.own)} | ${fmt(s.cpu)} |`);
  }
  const bare = median(samples.get('nest-bare')!.done);
  const worker = median(samples.get('nest-worker')!.done);
  const cpuGap = median(samples.get('nest-worker')!.cpu) - median(samples.get('nest-bare')!.cpu);
  console.log(
    `\nNest worker registered ${(worker - bare).toFixed(0)} ms (CPU: ${cpuGap.toFixed(0)} ms) after a bare Nest context is ready (medians).`,
  );
  // "Since process start" includes node's own boot (NODE_EXTRA_CA_CERTS alone can add ~90 ms):
  // the goal rows are the measured step, from the user's first line of code.
  const boot = median([...samples.values()].flatMap((s) => s.done.map((d, i) => d - s.own[i]!)));
  const plain = samples.get('plain-node')!;
  console.log(
    `Node's own start-up before the measured step: ${boot.toFixed(0)} ms (median of every run; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'not set'}).`,
  );
  console.log(
    `Goal 4 (measured step): import 'socket-mesh/plain' ${median(samples.get('import-plain')!.own).toFixed(0)} ms (≤ 100), plain SocketNode registered ${median(plain.own).toFixed(0)} ms (≤ 150), Nest worker ${(worker - bare).toFixed(0)} ms after a bare context (≤ 150).`,
  );
  const stretches: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await new Promise((resolve, reject) =>
      scrypt('socket-mesh-bench-private-key-0123456789', `salt-${i}`, 32, SCRYPT_PARAMS, (err) =>
        err ? reject(err) : resolve(err),
      ),
    );
    stretches.push(performance.now() - t);
  }
  console.log(
    `scrypt alone (N=${SCRYPT_PARAMS.N}, r=${SCRYPT_PARAMS.r}, p=${SCRYPT_PARAMS.p}), the key stretch of every start: ${median(stretches).toFixed(0)} ms (median of 5).`,
  );
  if (list) {
    for (const { mode, label } of MODES) {
      const r = await runChild({ mode, managerPort: manager.port, list: true, dist });
      const mods = r.modules ?? [];
      const packages = mods.filter((m) => !m.startsWith('socket-mesh:'));
      const watch = ['bullmq', 'ioredis', '@nestjs/bullmq', 'sodium-native', '@nestjs/core'].map(
        (p) => `${p} ${packages.includes(p) ? 'LOADED' : 'no'}`,
      );
      console.log(
        `\n${label}: ${packages.length} packages, ${mods.length - packages.length} socket-mesh files; ${watch.join(', ')}`,
      );
      console.log(`  ${packages.join(' ')}`);
    }
  }
} finally {
  await manager.close();
}
