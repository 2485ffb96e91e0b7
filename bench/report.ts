/**
 * The one results table: each row a metric of one scenario, socket-mesh beside raw (median of
 * the rounds and their min–max), the ratio mesh÷raw, and the target where the issue sets one.
 */
import type { IdleMetrics } from './idle-memory.js';
import type { RunMetrics } from './measure.js';
import type { Plan } from './scenarios.js';
import { spread, type Spread } from './stats.js';

export type Better = 'higher' | 'lower';

export type RowTarget =
  | { kind: 'ratio-min'; value: number } // mesh÷raw ≥ value
  | { kind: 'ratio-max'; value: number } // mesh÷raw ≤ value
  | { kind: 'mesh-max'; value: number }; // socket-mesh median ≤ value (row unit)

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  better: Better;
  mesh?: Spread;
  raw?: Spread;
  ratio?: number;
  target?: RowTarget;
  status?: 'met' | 'NOT met';
}

export type CallResults = Record<string, { mesh: RunMetrics[]; raw: RunMetrics[] }>;

interface MetricDef {
  metric: string;
  unit: string;
  better: Better;
  pick: (m: RunMetrics) => number | undefined;
}

const CALLS: MetricDef = { metric: 'throughput', unit: 'calls/s', better: 'higher', pick: (m) => m.callsPerSec };
const P50: MetricDef = { metric: 'latency p50', unit: 'µs', better: 'lower', pick: (m) => m.p50Us };
const P99: MetricDef = { metric: 'latency p99', unit: 'µs', better: 'lower', pick: (m) => m.p99Us };
const CPU_CALLER: MetricDef = { metric: 'CPU per call, caller', unit: 'µs', better: 'lower', pick: (m) => m.cpuCallerUs };
const CPU_CALLEE: MetricDef = { metric: 'CPU per call, callee(s)', unit: 'µs', better: 'lower', pick: (m) => m.cpuCalleeUs };
const CPU_TOTAL: MetricDef = { metric: 'CPU per call, caller+callee(s)', unit: 'µs', better: 'lower', pick: (m) => m.cpuTotalUs };
const E2E: MetricDef = {
  metric: 'stored and run by all 3 (end to end)',
  unit: 'calls/s',
  better: 'higher',
  pick: (m) => m.e2eCallsPerSec,
};

/** One call at a time: latency and CPU per call of both processes, each within 1.2× raw (issue 16 goal 1). */
const C1_ROWS: { def: MetricDef; target?: RowTarget }[] = [
  { def: P50, target: { kind: 'ratio-max', value: 1.2 } },
  { def: P99 },
  { def: CPU_TOTAL, target: { kind: 'ratio-max', value: 1.2 } },
];

/** Per scenario id: which metrics become rows, and the targets of the issue. */
const LAYOUT: Record<string, { def: MetricDef; target?: RowTarget; metric?: string }[]> = {
  'balanced-c1-small': C1_ROWS,
  'balanced-c1-kib': C1_ROWS,
  'balanced-c64-small': [
    { def: CALLS, target: { kind: 'ratio-min', value: 0.9 } },
    { def: CPU_CALLER },
    { def: CPU_CALLEE },
    { def: CPU_TOTAL, target: { kind: 'mesh-max', value: 18 } },
  ],
  'balanced-c64-kib': [
    { def: CALLS, target: { kind: 'ratio-min', value: 1.0 } },
    { def: CPU_TOTAL, target: { kind: 'mesh-max', value: 18 } },
  ],
  'balanced-c64-16kib': [{ def: CALLS, target: { kind: 'ratio-min', value: 1.0 } }, { def: CPU_TOTAL }],
  'responding-c1': [{ def: P50 }, { def: P99 }],
  'responding-c64': [{ def: CALLS, target: { kind: 'ratio-min', value: 0.9 } }, { def: CPU_CALLER }, { def: CPU_CALLEE }],
  'plain-c64': [{ def: CALLS }, { def: CPU_TOTAL }],
  'queued-memory-c64': [{ def: CALLS, metric: 'stored by all 3 (acknowledged)' }, { def: CPU_TOTAL }],
  'queued-redis-c16': [
    // Issue 16 goal 3 is "stored and run" (E2E). Raw BullMQ's stored-only rate is measured while
    // its workers fall behind its adds, so it is shown, without a target (bench/README.md).
    { def: CALLS, metric: 'stored by all 3 (acknowledged)' },
    { def: E2E, target: { kind: 'ratio-min', value: 0.9 } },
    { def: CPU_TOTAL },
  ],
};

export function buildRows(plan: Plan, calls: CallResults, idle: { mesh: IdleMetrics[]; raw: IdleMetrics[] } | undefined): Row[] {
  const rows: Row[] = [];
  for (const scenario of plan.scenarios) {
    const result = calls[scenario.id];
    if (!result) continue;
    for (const { def, target, metric } of LAYOUT[scenario.id] ?? []) {
      rows.push(
        finish({
          scenario: scenario.label,
          metric: metric ?? def.metric,
          unit: def.unit,
          better: def.better,
          mesh: spread(result.mesh.map(def.pick).filter((v): v is number => v !== undefined)),
          raw: spread(result.raw.map(def.pick).filter((v): v is number => v !== undefined)),
          target,
        }),
      );
    }
  }
  if (idle) {
    const peers = plan.idle.peers;
    const label = `${peers} idle peer links → 1 callee`;
    const idleRow = (metric: string, unit: string, pick: (m: IdleMetrics) => number, target?: RowTarget): Row =>
      finish({
        scenario: label,
        metric,
        unit,
        better: 'lower',
        mesh: spread(idle.mesh.map(pick)),
        raw: spread(idle.raw.map(pick)),
        target,
      });
    rows.push(idleRow('RSS per link, callee', 'KiB', (m) => m.calleeRssKiBPerLink));
    rows.push(idleRow('RSS per link, caller side', 'KiB', (m) => m.callerRssKiBPerLink));
    rows.push(idleRow('JS heap+external per link, both sides', 'KiB', (m) => m.heapKiBPerLink));
    rows.push(idleRow(`RSS of all ${peers} links, both sides`, 'MiB', (m) => m.totalRssMiB, { kind: 'mesh-max', value: 50 }));
  }
  return rows;
}

function finish(row: Row): Row {
  if (row.mesh && row.raw && row.raw.median !== 0) row.ratio = row.mesh.median / row.raw.median;
  const t = row.target;
  if (t && row.mesh) {
    const ok =
      t.kind === 'mesh-max'
        ? row.mesh.median <= t.value
        : row.ratio === undefined
          ? undefined
          : t.kind === 'ratio-min'
            ? row.ratio >= t.value
            : row.ratio <= t.value;
    if (ok !== undefined) row.status = ok ? 'met' : 'NOT met';
  }
  return row;
}

function fmt(value: number, unit: string): string {
  const abs = Math.abs(value);
  const digits = unit === 'calls/s' || abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(s: Spread | undefined, unit: string): string {
  if (!s) return '—';
  return `${fmt(s.median, unit)} (${fmt(s.min, unit)}–${fmt(s.max, unit)})`;
}

function targetText(t: RowTarget | undefined, unit: string): string {
  if (!t) return '';
  if (t.kind === 'ratio-min') return `mesh÷raw ≥ ${t.value}`;
  if (t.kind === 'ratio-max') return `mesh÷raw ≤ ${t.value}`;
  return `mesh ≤ ${t.value} ${unit}`;
}

/** A Markdown table (readable as plain text too). */
export function renderTable(rows: Row[]): string {
  const header = [
    '#',
    'scenario',
    'metric',
    'unit',
    'socket-mesh median (min–max)',
    'raw median (min–max)',
    'mesh÷raw',
    'better',
    'target',
    'status',
  ];
  const body = rows.map((r, i) => [
    String(i + 1),
    r.scenario,
    r.metric,
    r.unit,
    cell(r.mesh, r.unit),
    cell(r.raw, r.unit),
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
    r.better === 'higher' ? 'higher ↑' : 'lower ↓',
    targetText(r.target, r.unit),
    r.status ?? '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
