/**
 * One start-up measurement in a fresh process (forked by startup.ts): `mode` says what to
 * load or start; times are ms since this process started (performance.now()'s origin).
 * With `list`, every module the process loaded is reported too (the listing hooks slow the
 * loading down, so listed runs are not timed runs).
 */
import { register } from 'node:module';
import { createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

export type StartupMode = 'import-plain' | 'import-main' | 'plain-node' | 'nest-bare' | 'nest-worker';

export interface StartupConfig {
  mode: StartupMode;
  managerPort: number;
  list: boolean;
  /** Load socket-mesh from the published bundle (dist/, `npm run build`) instead of tsc's build/lib. */
  dist: boolean;
}

export interface StartupResult {
  /** When the measured code started: after node's own start-up and this script's imports. */
  startMs: number;
  /** When it was done: imported, registered, or the context ready. */
  doneMs: number;
  /** CPU time (user + system) the process had used by then, ms: steadier than wall time on a busy machine. */
  cpuMs: number;
  /** Packages (node_modules names) and lib/ files loaded, with `list`. */
  modules?: string[];
}

const config = JSON.parse(process.argv[2]!) as StartupConfig;
const urls = new Set<string>();
let hooks: MessageChannel | undefined;
if (config.list) {
  hooks = new MessageChannel();
  hooks.port1.on('message', (url: string) => urls.add(url));
  register('./startup-hooks.js', import.meta.url, { data: { port: hooks.port2 }, transferList: [hooks.port2] });
}

/** The entry points, from build/lib (tsc) or dist/ (the bundle), typed as the sources. */
function entryUrl(name: 'plain' | 'index', dist: boolean): string {
  return new URL(dist ? `../../dist/${name}.js` : `../lib/${name}.js`, import.meta.url).href;
}
const plainEntry = () => import(entryUrl('plain', config.dist)) as Promise<typeof import('../lib/plain.js')>;

const KEYS = { publicKey: 'socket-mesh-bench-public-key', privateKey: 'socket-mesh-bench-private-key-0123456789' };
const manager = { host: '127.0.0.1', port: config.managerPort };

async function run(): Promise<{ startMs: number; doneMs: number; close(): Promise<void> | void }> {
  const startMs = performance.now();
  const nothing = () => undefined;
  switch (config.mode) {
    case 'import-plain':
      await plainEntry();
      return { startMs, doneMs: performance.now(), close: nothing };
    case 'import-main':
      await import(entryUrl('index', config.dist));
      return { startMs, doneMs: performance.now(), close: nothing };
    case 'plain-node': {
      const { SocketNode } = await plainEntry();
      let doneMs = 0;
      const node = new SocketNode({
        worker: 'Starter',
        schema: { Starter: { _commands: { _balanced: { ping: () => 'pong' } } } },
        ...KEYS,
        ip: manager.host,
        port: manager.port,
        hostname: '127.0.0.1',
        logLevel: 'error',
        onConnected: () => {
          doneMs ||= performance.now();
        },
      });
      await node.ready();
      return { startMs, doneMs: doneMs || performance.now(), close: () => node.close() };
    }
    case 'nest-bare':
    case 'nest-worker': {
      const { startNest } = await import('./startup-nest.js');
      const started = await startNest(config.mode === 'nest-worker', manager, KEYS, entryUrl('index', config.dist));
      return { startMs, ...started };
    }
  }
}

const result = await run();
const cpu = process.cpuUsage();
const out: StartupResult = { startMs: result.startMs, doneMs: result.doneMs, cpuMs: (cpu.user + cpu.system) / 1000 };
await result.close();
if (config.list) {
  const cjs = Object.keys(createRequire(import.meta.url).cache);
  out.modules = summariseModules([...urls, ...cjs.map((f) => `file://${f}`)]);
  hooks?.port1.close();
}
process.send!(out);
process.disconnect();

function summariseModules(all: string[]): string[] {
  const names = new Set<string>();
  for (const url of all) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) names.add(pkg[1]);
    else if (/\/(build\/lib|dist)\//.test(url)) names.add('socket-mesh:' + url.replace(/.*\/(build\/lib|dist)\//, '$1/'));
  }
  return [...names].sort();
}
