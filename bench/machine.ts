/** The machine and versions a run was measured on, read at run time. */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  versions: Record<string, string>;
  redis?: string;
  /** 1-minute load average when the run started: other work on the machine skews results. */
  loadAtStart: number;
}

/** The package root (the nearest package.json named socket-mesh above this file). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'socket-mesh') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the socket-mesh package root');
    dir = parent;
  }
}

function versionOf(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function machineInfo(redis: string | undefined): MachineInfo {
  const root = repoRoot();
  const info: MachineInfo = {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()} ${process.arch}`,
    loadAtStart: Math.round(loadavg()[0] * 100) / 100,
    versions: Object.fromEntries(
      ['socket.io', 'socket.io-client', 'engine.io', 'ws', 'bullmq', 'ioredis'].map((n) => [n, versionOf(root, n)]),
    ),
  };
  if (redis) info.redis = redis;
  return info;
}

export function describeMachine(m: MachineInfo): string {
  const versions = Object.entries(m.versions)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ');
  return [
    `machine: nproc ${m.nproc}, ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, load average ${m.loadAtStart} at start, ${Math.round(loadavg()[0] * 100) / 100} now`,
    `node ${m.node}; ${versions}; Redis ${m.redis ?? 'not reachable'}`,
  ].join('\n');
}
