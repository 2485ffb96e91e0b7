/** What a bench run measures, and for how long: the full set and the --quick one. */
import type { PayloadKind, Target } from './config.js';

export interface Scenario {
  id: string;
  /** As the table shows it. */
  label: string;
  /** 'single': one callee per side (balanced rows); 'group': three. */
  phase: 'single' | 'group';
  target: Target;
  payload: PayloadKind;
  concurrency: number;
  /** A c=1 latency run (p50/p99) rather than a throughput run. */
  latency: boolean;
  /** Measured for `plan.redisMs` only: its backlog must be run before the next run starts. */
  short?: boolean;
}

export interface Plan {
  name: 'full' | 'quick';
  /** A B rounds per scenario (socket-mesh then raw, each round). */
  rounds: number;
  /** Warm-up before every measured run; the first round of each scenario gets `firstWarmupMs` (cold JIT, fresh processes). */
  warmupMs: number;
  firstWarmupMs: number;
  latencyMs: number;
  throughputMs: number;
  redisMs: number;
  scenarios: Scenario[];
  idle: { peers: number; rounds: number };
}

const S = (
  id: string,
  label: string,
  phase: Scenario['phase'],
  target: Target,
  payload: PayloadKind,
  concurrency: number,
): Scenario => ({
  id,
  label,
  phase,
  target,
  payload,
  concurrency,
  latency: concurrency === 1,
});

const ALL: Scenario[] = [
  S('balanced-c1-small', "balanced c=1 {test:'data'}", 'single', 'balanced', 'small', 1),
  S('balanced-c1-kib', 'balanced c=1 1 KiB', 'single', 'balanced', 'kib', 1),
  S('balanced-c64-small', "balanced c=64 {test:'data'}", 'single', 'balanced', 'small', 64),
  S('balanced-c64-kib', 'balanced c=64 1 KiB', 'single', 'balanced', 'kib', 64),
  S('balanced-c64-16kib', 'balanced c=64 16 KiB', 'single', 'balanced', 'kib16', 64),
  S('responding-c1', 'responding broadcast ×3 c=1', 'group', 'responding', 'small', 1),
  S('responding-c64', 'responding broadcast ×3 c=64', 'group', 'responding', 'small', 64),
  S('plain-c64', 'plain broadcast ×3 c=64', 'group', 'plain', 'small', 64),
  S('queued-memory-c64', 'queued broadcast ×3 memory c=64', 'group', 'queued-memory', 'small', 64),
  // Lower concurrency: the queue workers (concurrency 1 each) must drain the backlog between runs.
  { ...S('queued-redis-c16', 'queued broadcast ×3 Redis c=16', 'group', 'queued-redis', 'small', 16), short: true },
];

const QUICK_IDS = new Set(['balanced-c1-small', 'balanced-c64-small', 'responding-c64', 'queued-redis-c16']);

/**
 * `only`: scenario ids to keep (`--only=queued-redis-c16,balanced-c1-small`); the idle-memory rows
 * run only when `idle` is among them.
 */
export function plan(quick: boolean, only?: string[]): Plan {
  const base = basePlan(quick);
  if (!only) return base;
  const unknown = only.filter((id) => id !== 'idle' && !ALL.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${ALL.map((s) => s.id).join(', ')}, idle`);
  return {
    ...base,
    scenarios: ALL.filter((s) => only.includes(s.id)),
    idle: { ...base.idle, rounds: only.includes('idle') ? base.idle.rounds : 0 },
  };
}

function basePlan(quick: boolean): Plan {
  if (quick) {
    return {
      name: 'quick',
      rounds: 2,
      warmupMs: 200,
      firstWarmupMs: 500,
      latencyMs: 600,
      throughputMs: 800,
      redisMs: 400,
      scenarios: ALL.filter((s) => QUICK_IDS.has(s.id)),
      idle: { peers: 50, rounds: 1 },
    };
  }
  return {
    name: 'full',
    rounds: 3,
    warmupMs: 300,
    firstWarmupMs: 1000,
    latencyMs: 1300,
    throughputMs: 1800,
    redisMs: 1200,
    scenarios: ALL,
    idle: { peers: 50, rounds: 3 },
  };
}
