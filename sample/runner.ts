/**
 * Runs a manager and its workers as child processes, the way they would run in production
 * (one process each), with every output line tagged by the process it came from.
 * Shared by `npm start` (run.ts) and `npm run start:plain` (plain/run.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { usingDemoKeys } from './keys.js';

export interface SampleApp {
  /** Output tag, e.g. `node-b-1`. */
  tag: string;
  /** Compiled script, relative to the calling module (pass `import.meta.url` as `base`). */
  script: string;
  env?: Record<string, string>;
}

interface Running {
  child: ChildProcess;
  closed: Promise<unknown>;
}

const READY = 'SAMPLE_READY ';
// Give up on a child that ignores SIGTERM this long; a clean shutdown takes well under a second.
const STOP_DEADLINE_MS = 10_000;

const colour = Boolean(process.stdout.isTTY && process.stdout.hasColors?.()) && !process.env.NO_COLOR;
const palette = [36, 33, 35, 32, 34];
const paint = (text: string, code: number) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (line: string) => console.log(`${paint('[runner]', 1)} ${line}`);

export async function runSample(base: string, manager: SampleApp, workers: SampleApp[]): Promise<void> {
  const running: Running[] = [];
  let stopping: Promise<never> | undefined;

  const stop = (code: number): Promise<never> =>
    (stopping ??= (async () => {
      const deadline = setTimeout(() => {
        say(`children still running after ${STOP_DEADLINE_MS} ms: killing them`);
        code = 1;
        for (const { child } of running) child.kill('SIGKILL');
      }, STOP_DEADLINE_MS);
      // Callers first, the manager last, so no one watches its peers vanish mid-call.
      for (const { child, closed } of [...running].reverse()) {
        child.kill('SIGTERM');
        await closed;
      }
      clearTimeout(deadline);
      process.exit(code);
    })());

  const start = (app: SampleApp, colourCode: number, onLine?: (line: string) => void): Running => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(app.script, base))], {
      env: { ...process.env, ...app.env, ...(colour ? {} : { NO_COLOR: '1' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = paint(`[${app.tag}]`, colourCode);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      onLine?.(line);
      process.stdout.write(`${tag} ${line}\n`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`${tag} ${line}\n`));
    // 'close', not 'exit': it comes after the child's last output line has been read.
    const closed = once(child, 'close').then(([code, signal]) => {
      if (stopping) return say(`${app.tag} stopped (${signal ?? `exit code ${code}`})`);
      say(`${app.tag} exited unexpectedly (${signal ?? `exit code ${code}`}): stopping the others`);
      void stop(1);
    });
    child.on('error', (err) => {
      say(`${app.tag} could not start: ${err.message}`);
      void stop(1);
    });
    const entry = { child, closed };
    running.push(entry);
    return entry;
  };

  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  if (usingDemoKeys) say('using the DEMO keys from sample/keys.ts: set MESH_PUBLIC_KEY and MESH_PRIVATE_KEY for anything real');

  // The manager may pick a free port; workers learn it from its ready line.
  const ready = new Promise<{ port: number }>((resolve) => {
    start(manager, palette[0]!, (line) => {
      if (line.startsWith(READY)) resolve(JSON.parse(line.slice(READY.length)) as { port: number });
    });
  });
  const { port } = await ready;
  workers.forEach((app, i) =>
    start({ ...app, env: { ...app.env, MASTER_SOCKET_PORT: String(port) } }, palette[(i + 1) % palette.length]!),
  );

  // A run length for demos and the smoke test, not a wait for anything to happen.
  const duration = Number(process.env.SAMPLE_DURATION_MS);
  if (duration > 0) {
    setTimeout(() => {
      say(`SAMPLE_DURATION_MS (${duration}) reached: stopping`);
      void stop(0);
    }, duration);
  }
}
