/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and tells where the self time went: by
 * package / lib/core file, and the top functions. Also runnable on its own:
 * `node build/bench/profile-summary.js file.cpuprofile [more...]`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  group: string;
  ms: number;
}

export interface ProfileSummary {
  file: string;
  /** Wall time covered, ms. */
  wallMs: number;
  /** Sampled non-idle time, ms. */
  busyMs: number;
  groups: { group: string; ms: number }[];
  functions: SelfTime[];
}

/** Which bucket a frame's self time goes to: a lib/core file, an npm package, node internals, V8. */
export function groupOf(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn;
    return '(native)';
  }
  const core = /\/lib\/core\/(.+?)\.[jt]s$/.exec(url);
  if (core) return `lib/core/${core[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/bench/')) return 'bench';
  return url;
}

/**
 * Self time per function. With `window` (µs on the profiled process's monotonic clock, the
 * clock of the profile's timestamps) only the samples inside it count: the measured run
 * without start-up, warm-up or idle time.
 */
export function summarize(file: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time between sample i-1 and sample i: charge it to sample i.
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    t += delta;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const functions = new Map<string, SelfTime>();
  const groups = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    const group = groupOf(url, name);
    if (group !== '(idle)') busyUs += us;
    groups.set(group, (groups.get(group) ?? 0) + us);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, group, ms: 0 };
    entry.ms += us / 1000;
    functions.set(key, entry);
  }
  return {
    file,
    wallMs: (window ? window.toUs - window.fromUs : profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    groups: [...groups].map(([group, us]) => ({ group, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms),
  };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const core = url.indexOf('/lib/core/');
  if (core >= 0) return url.slice(core + 1);
  return url.replace(/^file:\/\/.*\/build\//, 'build/');
}

const pct = (ms: number, of: number) => `${((100 * ms) / of).toFixed(1).padStart(5)}%`;

/** Text report: groups, top functions overall, top in lib/core, top in socket.io/engine.io/ws. */
/** `calls`: the calls made in the summarised window, to show self time per call. */
export function formatSummary(s: ProfileSummary, options: { top?: number; calls?: number } = {}): string {
  const top = options.top ?? 15;
  const busy = s.busyMs;
  const calls = options.calls;
  const perCall = (ms: number) => (calls === undefined ? '' : `  ${((ms * 1000) / calls).toFixed(2).padStart(6)} µs/call`);
  const head = `== ${basename(s.file)}: ${busy.toFixed(0)} ms busy of ${s.wallMs.toFixed(0)} ms`;
  const lines = [
    calls === undefined ? head : `${head}, ${calls} calls: ${((busy * 1000) / calls).toFixed(2)} µs busy per call`,
    '-- self time by group (busy = 100%)',
  ];
  for (const g of s.groups.filter((g) => g.group !== '(idle)').slice(0, 14))
    lines.push(`  ${pct(g.ms, busy)}${perCall(g.ms)}  ${g.group}`);
  const list = (title: string, filter: (f: SelfTime) => boolean) => {
    lines.push(`-- ${title}`);
    for (const f of s.functions.filter(filter).slice(0, top))
      lines.push(`  ${pct(f.ms, busy)}${perCall(f.ms)}  ${f.name}  ${f.where}`);
  };
  list('top functions (self)', (f) => f.group !== '(idle)');
  list('top in lib/core', (f) => f.group.startsWith('lib/core/'));
  list('top in socket.io / engine.io / ws', (f) => /^(socket\.io|engine\.io|ws$|@socket\.io)/.test(f.group));
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of process.argv.slice(2)) console.log(`${formatSummary(summarize(file))}\n`);
}
