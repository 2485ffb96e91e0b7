/**
 * One process of `tracing.ts`: a callee (BenchTraceB, `status`) or a caller (BenchTraceA) that
 * runs a closed loop of C concurrent calls and prints { calls, ms, p50Us, cpuUs (caller CPU per call) } as JSON.
 * TRACING_MODE: 'absent' (@opentelemetry/* unresolvable), 'api' (API installed, no SDK),
 * 'sdk' (SDK registered: tracing-sdk.ts). The mode is set before socket-mesh is loaded.
 */
import { register } from 'node:module';
import { BENCH_KEYS } from './config.js';
import { percentile } from './stats.js';

const mode = process.env.TRACING_MODE ?? 'absent';
const role = process.env.TRACING_ROLE ?? 'callee';
const managerPort = Number(process.env.TRACING_MANAGER_PORT);
if (mode === 'absent') register(new URL('./tracing-hooks.js', import.meta.url));
const shutdownSdk = mode === 'sdk' ? (await import('./tracing-sdk.js')).registerSdk() : undefined;
const { SocketNode } = await import('../lib/core/socket-node.js');

const schema = {
  BenchTraceA: { _connect: ['BenchTraceB'] },
  BenchTraceB: {
    _allow: ['BenchTraceA'],
    _commands: { _balanced: { status: ({ test }: { test: string }) => ({ status: `ok ${test}` }) } },
  },
};
const node = new SocketNode({
  ...BENCH_KEYS,
  schema,
  worker: role === 'callee' ? 'BenchTraceB' : 'BenchTraceA',
  ip: '127.0.0.1',
  port: managerPort,
  logLevel: 'silent',
});

async function stop(): Promise<void> {
  await node.close();
  await shutdownSdk?.();
}

if (role === 'callee') {
  while (!node.meshServer.listening) await new Promise((resolve) => setTimeout(resolve, 5));
  console.log('ready');
  process.stdin.resume();
  process.stdin.on('end', () => void stop().then(() => process.exit(0)));
} else {
  const concurrency = Number(process.env.TRACING_C ?? 64);
  const warmupMs = Number(process.env.TRACING_WARMUP_MS ?? 1500);
  const durationMs = Number(process.env.TRACING_DURATION_MS ?? 3000);
  const status = node.call.BenchTraceB!.status!;
  const payload = { test: 'data' };
  // The callee may still be registering: wait for the first answer.
  for (;;) {
    try {
      await status.call(payload, { timeout: 2000 });
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const loop = async (until: number, latencies?: number[]): Promise<number> => {
    let calls = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await status.call(payload);
          latencies?.push(performance.now() - t);
          calls++;
        }
      }),
    );
    return calls;
  };
  await loop(performance.now() + warmupMs);
  const latencies: number[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  const calls = await loop(started + durationMs, latencies);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ calls, ms, p50Us: percentile(latencies, 50) * 1000, cpuUs: (used.user + used.system) / calls }));
  await stop();
  process.exit(0);
}
