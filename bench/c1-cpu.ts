/**
 * `node build/bench/c1-cpu.js`: caller and callee MeshNode (and a manager) in ONE process, one
 * call at a time for MS ms (default 2500): CPU µs per call of both sides together and calls/s.
 * Steadier than the multi-process rows on a busy machine, for A/B decisions (e.g. run with
 * SOCKET_MESH_CRYPTO=node against the default). LABEL tags the output line.
 */
import { Manager } from '../lib/core/manager.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { silentLogger } from '../lib/core/logger.js';
const KEYS = { publicKey: 'k-pub', privateKey: 'k-priv-0123456789012345678901234567' };
const manager = new Manager({ ...KEYS, port: 0, host: '127.0.0.1', logger: silentLogger });
await manager.ready();
const m = { host: '127.0.0.1', port: manager.port };
const b = new MeshNode({
  worker: 'B',
  manager: m,
  bindHost: '127.0.0.1',
  allow: ['A'],
  connect: [],
  commands: [
    {
      name: 's',
      kind: 'balanced',
      responds: false,
      queued: false,
      handler: (p: unknown) => ({ status: 'ok ' + (p as { test: string }).test }),
    },
  ],
  ...KEYS,
  logger: silentLogger,
});
const a = new MeshNode({
  worker: 'A',
  manager: m,
  bindHost: '127.0.0.1',
  allow: [],
  connect: ['B'],
  commands: [],
  ...KEYS,
  logger: silentLogger,
});
await Promise.all([a.start(), b.start()]);
await Promise.all([a.ready(), b.ready()]);
while (a.peers('B').length === 0) await new Promise((r) => setTimeout(r, 20));
async function run(c: number, ms: number) {
  let calls = 0;
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < end) {
        await a.call('B', 's', { test: 'data' });
        calls++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const el = performance.now() - t0;
  return { cpuUs: (cpu.user + cpu.system) / calls, perSec: (calls / el) * 1000 };
}
await run(1, 1000);
const r = await run(1, Number(process.env.MS ?? 2500));
console.log(JSON.stringify({ label: process.env.LABEL, cpuUs: +r.cpuUs.toFixed(1), perSec: Math.round(r.perSec) }));
await a.close();
await b.close();
await manager.close();
