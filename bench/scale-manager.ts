/** The manager process of the scale bench: reports its port, RSS and registry size on request. */
import { Manager } from '../lib/core/manager.js';
import { silentLogger } from '../lib/core/logger.js';
import { BENCH_KEYS } from './config.js';
import { childConfig, serve, startChild } from './ipc.js';

export interface ScaleManagerReady {
  port: number;
}

const { port } = childConfig<{ port: number }>();
// Every bench process shares 127.0.0.1, where a real fleet would have one address per host:
// the per-address registration pace is raised to what 10 hosts at the default 100/s would get.
const manager = new Manager({ ...BENCH_KEYS, port, host: '127.0.0.1', logger: silentLogger, registrationsPerSecond: 1000 });

startChild(async (): Promise<ScaleManagerReady> => {
  await manager.ready();
  return { port: manager.port };
});

serve(
  {
    rss: () => {
      globalThis.gc?.();
      return process.memoryUsage().rss;
    },
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    /** The manager's counters (registrations, topology messages sent, workers compared). */
    stats: () => ({ ...manager.stats }),
    /** Resolves with the ms from the request until `n` instances are registered. */
    waitRegistered: ({ n, timeoutMs }: { n: number; timeoutMs: number }) => {
      const t0 = performance.now();
      const count = () => manager.nodes().length;
      return new Promise<number>((resolve, reject) => {
        const check = () => {
          if (count() >= n) return resolve(performance.now() - t0);
          if (performance.now() - t0 > timeoutMs)
            return reject(new Error(`only ${count()} of ${n} registered after ${timeoutMs} ms`));
          setTimeout(check, 20);
        };
        check();
      });
    },
  },
  () => manager.close(),
);
