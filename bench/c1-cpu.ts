/**
 * `node build/bench/c1-cpu.js [--raw]`: caller and callee in ONE process, one call at a time for
 * MS ms (default 2500): CPU µs per call of both sides together, calls/s and write syscalls per
 * call (Linux). Default: a caller and a callee MeshNode (and a manager); `--raw`: a socket.io
 * server and client doing `emitWithAck` with the same handler. Steadier than the multi-process
 * rows on a busy machine, for A/B decisions: alternate the two (or two builds) and compare.
 * LABEL tags the output line; C sets the concurrency (default 1). CALLS=n (after WARMUP=n,
 * default 2000, warm-up calls) runs a fixed number of calls instead of a timed run.
 *
 * Instruction counts, whatever the machine's load (bench/README.md, "c=1 call path: instruction
 * counts"): `CALLS=5000 WARMUP=30000 CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no
 * node build/bench/c1-cpu.js [--raw]`: counting is switched on (callgrind_control) only around
 * the CALLS measured calls, after WARMUP calls; instructions per call = "Collected" ÷ CALLS.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Manager } from '../lib/core/manager.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { silentLogger } from '../lib/core/logger.js';
import { PAYLOADS, type PayloadKind } from './config.js';

const KEYS = { publicKey: 'k-pub', privateKey: 'k-priv-0123456789012345678901234567' };
const payload = PAYLOADS[(process.env.PAYLOAD ?? 'small') as PayloadKind];
const handler = (p: unknown) => ({ status: 'ok ' + (p as { test: string }).test });

interface Side {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

async function meshSide(): Promise<Side> {
  const manager = new Manager({ ...KEYS, port: 0, host: '127.0.0.1', logger: silentLogger });
  await manager.ready();
  const m = { host: '127.0.0.1', port: manager.port };
  const base = { manager: m, bindHost: '127.0.0.1', ...KEYS, logger: silentLogger };
  const b = new MeshNode({
    ...base,
    worker: 'B',
    allow: ['A'],
    connect: [],
    commands: [{ name: 's', kind: 'balanced', responds: false, queued: false, handler }],
  });
  const a = new MeshNode({ ...base, worker: 'A', allow: [], connect: ['B'], commands: [] });
  await Promise.all([a.start(), b.start()]);
  await Promise.all([a.ready(), b.ready(), a.waitFor('B')]);
  return {
    call: () => a.call('B', 's', payload),
    close: async () => {
      await a.close();
      await b.close();
      await manager.close();
    },
  };
}

async function rawSide(): Promise<Side> {
  const [{ Server }, { io }] = [await import('socket.io'), await import('socket.io-client')];
  const http = createServer();
  const server = new Server(http, { transports: ['websocket'] });
  server.on('connection', (socket) => socket.on('status', (p: unknown, ack: (v: unknown) => void) => ack(handler(p))));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return {
    call: () => client.emitWithAck('status', payload),
    close: async () => {
      client.close();
      await new Promise<void>((resolve) => void server.close(() => resolve()));
    },
  };
}

/** Write syscalls of this process so far (Linux /proc; NaN elsewhere). */
function writes(): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
  } catch {
    return NaN;
  }
}

const side = process.argv.includes('--raw') ? await rawSide() : await meshSide();
/** `count`: stop after that many calls instead of after `ms` (instruction counts under valgrind). */
async function run(c: number, ms: number, count = Infinity) {
  let calls = 0;
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  const w0 = writes();
  const f0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (count === Infinity ? performance.now() < end : calls + c <= count) {
        await side.call();
        calls++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const el = performance.now() - t0;
  const faults = (process.resourceUsage().minorPageFault - f0) / calls;
  return { cpuUs: (cpu.user + cpu.system) / calls, perSec: (calls / el) * 1000, writes: (writes() - w0) / calls, faults, calls };
}
/** Switches callgrind's instrumentation of this process on or off (CALLGRIND=1 only). */
async function callgrind(on: boolean): Promise<void> {
  if (!process.env.CALLGRIND) return;
  await new Promise((resolve) => spawn('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)]).on('exit', resolve));
}

const c = Number(process.env.C ?? 1);
const count = Number(process.env.CALLS ?? Infinity);
await run(c, 1000, count === Infinity ? Infinity : Number(process.env.WARMUP ?? 2000));
await callgrind(true);
const r = await run(c, Number(process.env.MS ?? 2500), count);
await callgrind(false);
console.log(
  JSON.stringify({
    label: process.env.LABEL ?? (process.argv.includes('--raw') ? 'raw' : 'mesh'),
    cpuUs: +r.cpuUs.toFixed(1),
    perSec: Math.round(r.perSec),
    writesPerCall: +r.writes.toFixed(2),
    pageFaultsPerCall: +r.faults.toFixed(2),
    calls: r.calls,
  }),
);
await side.close();
