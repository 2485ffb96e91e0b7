/**
 * Starts fixture processes (a manager, workers) from the compiled tree and drives them over
 * the IPC protocol of `fixture-protocol.ts`. Every child is kept in a registry: `stopAll()`
 * in afterAll ends them (gracefully, then SIGKILL), and a process 'exit' hook kills whatever
 * is left if a test run dies early.
 *
 * Set MESH_DEBUG=1 to echo every child's output to the test output as it arrives.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  FixtureMessage,
  FixtureRequest,
  ManagerFixtureConfig,
  SerializedFixtureError,
  WorkerFixtureConfig,
} from './fixture-protocol.js';

export type Front = 'plain' | 'nest';
export type FixtureRole = 'worker' | 'manager';

/** The keys every test node shares unless a test means to get them wrong. */
export const TEST_KEYS = Object.freeze({
  publicKey: 'socket-mesh-e2e-public-key',
  privateKey: 'socket-mesh-e2e-private-key-0123456789',
});

/** Waiting for a fixture's 'ready' message (a cold Nest start on a busy CI box included). */
const READY_TIMEOUT_MS = 30_000;
/** Waiting for a process to end after a graceful 'close' or a signal. */
const EXIT_TIMEOUT_MS = 10_000;

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'socket-mesh') return dir;
      } catch {
        // not ours; keep going up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('mesh-process: cannot find the socket-mesh package root');
    dir = parent;
  }
}

export const REPO_ROOT = findRoot();

/** `build/test/fixtures/<front>-<role>.js` under the package root. */
export function fixturePath(front: Front, role: FixtureRole): string {
  return join(REPO_ROOT, 'build', 'test', 'fixtures', `${front}-${role}.js`);
}

export function fixtureExists(front: Front, role: FixtureRole): boolean {
  return existsSync(fixturePath(front, role));
}

/** Throws a clear message when a front's compiled fixtures are missing. */
export function assertFixtures(front: Front): void {
  const missing = (['manager', 'worker'] as const).filter((role) => !fixtureExists(front, role));
  if (missing.length > 0) {
    const files = missing.map((role) => relative(REPO_ROOT, fixturePath(front, role))).join(', ');
    throw new Error(
      `e2e fixture missing for the '${front}' front: ${files}. ` +
        `Run \`npm run build:all\` (it compiles test/fixtures/${front}-*.ts into build/).`,
    );
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type CallResult = { ok: true; value: unknown } | { ok: false; error: SerializedFixtureError };

export type MeshEventName = 'connected' | 'peer.connected' | 'peer.disconnected';

export interface MeshEventRecord {
  name: MeshEventName;
  payload: { worker: string; variant: string; direction?: string };
  at: number;
}

interface Pending {
  resolve(message: Extract<FixtureMessage, { type: 'result' }>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

// One registry for every copy of this module (Jest loads it once per test file).
const REGISTRY_KEY = Symbol.for('socket-mesh.test.fixture-processes');
type Registry = { children: Set<FixtureProcess>; hooked: boolean };
const registry: Registry =
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = { children: new Set<FixtureProcess>(), hooked: false } as Registry);
if (!registry.hooked) {
  registry.hooked = true;
  // Last resort: a test run that dies must not leave processes holding ports.
  process.on('exit', () => {
    for (const child of registry.children) child.killNow();
  });
}

/** One forked fixture process: output capture, IPC requests, events, exit. */
export class FixtureProcess {
  readonly child: ChildProcess;
  /** Resolves (never rejects) when the process has exited and its pipes are closed. */
  readonly exited: Promise<ExitInfo>;
  readonly events = new EventEmitter();
  /** Every mesh event the process reported, oldest first. */
  readonly history: MeshEventRecord[] = [];
  private readonly chunks: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exitInfo: ExitInfo | undefined;
  private readyMessage: Extract<FixtureMessage, { type: 'ready' }> | undefined;

  constructor(
    readonly label: string,
    readonly role: FixtureRole,
    file: string,
    config: object,
    /** Run inside this network namespace (test/support/netns.ts); the IPC channel survives `ip netns exec`. */
    netns?: string,
  ) {
    this.events.setMaxListeners(0);
    this.child = fork(file, [], {
      env: { ...process.env, MESH_CONFIG: JSON.stringify(config), NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: REPO_ROOT,
      ...(netns === undefined ? {} : { execPath: '/usr/sbin/ip', execArgv: ['netns', 'exec', netns, process.execPath] }),
    });
    registry.children.add(this);
    const echo = Boolean(process.env.MESH_DEBUG);
    const capture = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.chunks.push(text);
      if (echo) process.stderr.write(text.replace(/^(?=.)/gm, `[${this.label}] `));
    };
    this.child.stdout!.on('data', capture);
    this.child.stderr!.on('data', capture);
    this.child.on('message', (message: FixtureMessage) => this.onMessage(message));
    // IPC write errors after the child died are reported by exit, not here.
    this.child.on('error', (err) => this.chunks.push(`[harness] child error: ${err.message}\n`));
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        registry.children.delete(this);
        const err = new Error(`${this.label} exited (code ${code}, signal ${signal}) before answering`);
        for (const call of this.pending.values()) {
          clearTimeout(call.timer);
          call.reject(err);
        }
        this.pending.clear();
        this.events.emit('exit', this.exitInfo);
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Everything the process wrote to stdout and stderr so far, without terminal colours. */
  output(): string {
    // eslint-disable-next-line no-control-regex
    return this.chunks.join('').replace(/\u001b\[[0-9;]*m/g, '');
  }

  /** Resolves with the fixture's 'ready' message; rejects with its output if it exits first or is too slow. */
  waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<Extract<FixtureMessage, { type: 'ready' }>> {
    if (this.readyMessage) return Promise.resolve(this.readyMessage);
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.events.off('ready', onReady);
        this.events.off('exit', onExit);
        if (err) reject(err);
        else resolve(this.readyMessage!);
      };
      const onReady = () => done();
      const onExit = (info: ExitInfo) =>
        done(
          new Error(
            `${this.label} exited (code ${info.code}, signal ${info.signal}) before it was ready. Output:\n${this.output()}`,
          ),
        );
      const timer = setTimeout(
        () => done(new Error(`${this.label} was not ready within ${timeoutMs} ms. Output:\n${this.output()}`)),
        timeoutMs,
      );
      this.events.on('ready', onReady);
      this.events.on('exit', onExit);
    });
  }

  /** Sends one request; resolves with its result message. */
  request(body: DistributiveOmit<FixtureRequest, 'id'>, timeoutMs: number): Promise<Extract<FixtureMessage, { type: 'result' }>> {
    if (!this.alive || !this.child.connected) {
      return Promise.reject(new Error(`${this.label} is not running (request '${body.type}')`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label} did not answer '${body.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ ...body, id } as FixtureRequest, (err) => {
        if (!err) return;
        const call = this.pending.get(id);
        if (!call) return;
        this.pending.delete(id);
        clearTimeout(call.timer);
        call.reject(new Error(`${this.label}: request not sent: ${err.message}`));
      });
    });
  }

  /** Sends a signal and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  /**
   * Asks the fixture to close (graceful shutdown: node.close() / app.close()), then waits for
   * the process to end by itself. A process that does not end kept a handle open: it is killed
   * and this rejects, so a leak in close() fails the test that called stop().
   */
  async stop(timeoutMs = EXIT_TIMEOUT_MS): Promise<ExitInfo> {
    if (!this.alive) return this.exited;
    const started = Date.now();
    try {
      await this.request({ type: 'close' }, timeoutMs);
    } catch (err) {
      if (!this.alive) return this.exited;
      await this.kill('SIGKILL');
      throw new Error(`${this.label}: close failed (${(err as Error).message}); killed. Output:\n${this.output()}`);
    }
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), left);
      }),
    ]);
    clearTimeout(timer);
    if (exit) return exit;
    await this.kill('SIGKILL');
    throw new Error(`${this.label} did not exit within ${timeoutMs} ms after close() (an open handle?); killed`);
  }

  /** Synchronous last resort (process 'exit' hook). */
  killNow(): void {
    if (this.alive) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private onMessage(message: FixtureMessage): void {
    if (typeof message !== 'object' || message === null) return;
    switch (message.type) {
      case 'ready':
        this.readyMessage = message;
        this.events.emit('ready', message);
        return;
      case 'event': {
        const record: MeshEventRecord = { name: message.name, payload: message.payload, at: Date.now() };
        this.history.push(record);
        this.events.emit(message.name, message.payload, record);
        this.events.emit('mesh-event', record);
        return;
      }
      case 'result': {
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        call.resolve(message);
        return;
      }
      default:
        return;
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ManagerHandle {
  readonly process: FixtureProcess;
  /** The socket port workers connect to. */
  readonly port: number;
  /** The HTTP port serving GET /socket-mesh/port (Nest: the app's port; plain: the discovery port), when there is one. */
  readonly httpPort?: number;
  readonly exited: Promise<ExitInfo>;
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  stop(): Promise<ExitInfo>;
  output(): string;
}

export interface WorkerHandle {
  readonly process: FixtureProcess;
  readonly worker: string;
  readonly variant: string;
  /** The worker's own mesh port. */
  readonly port: number;
  readonly events: EventEmitter;
  readonly history: MeshEventRecord[];
  readonly exited: Promise<ExitInfo>;
  /** Calls `command` on `worker` from inside this process. Never rejects for a mesh error: `{ ok: false, error }`. */
  call(worker: string, command: string, payload?: unknown, options?: Record<string, unknown>): Promise<CallResult>;
  /** Like `call`, but resolves with the value and rejects with an Error carrying the fixture error's fields. */
  callOk<T = unknown>(worker: string, command: string, payload?: unknown, options?: Record<string, unknown>): Promise<T>;
  peers(worker?: string): Promise<{ worker: string; variant: string; host: string; port: number }[]>;
  /** A position in `history`, for `waitForEvent(..., since)`. */
  mark(): number;
  /** The first event `name` at or after `since` (default: from the start) passing `predicate`. */
  waitForEvent(
    name: MeshEventName,
    predicate?: (payload: MeshEventRecord['payload']) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<MeshEventRecord>;
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  stop(): Promise<ExitInfo>;
  output(): string;
}

let counter = 0;

/** Forks `<front>-manager.js` and waits for its 'ready'. */
export async function startManager(front: Front, config: Partial<ManagerFixtureConfig> & InNetns = {}): Promise<ManagerHandle> {
  assertFixtures(front);
  const { netns, ...rest } = config;
  const full: ManagerFixtureConfig = { ...TEST_KEYS, logLevel: 'info', ...rest };
  const proc = new FixtureProcess(`${front}-manager#${++counter}`, 'manager', fixturePath(front, 'manager'), full, netns);
  const ready = await proc.waitReady().catch(async (err: Error) => {
    await proc.kill();
    throw err;
  });
  return {
    process: proc,
    port: ready.port,
    httpPort: ready.httpPort,
    exited: proc.exited,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => proc.kill(signal),
    stop: () => proc.stop(),
    output: () => proc.output(),
  };
}

/** Where a fixture process runs: a network namespace of test/support/netns.ts, or (undefined) this host. */
export interface InNetns {
  netns?: string;
}

export type WorkerStartConfig = Partial<WorkerFixtureConfig> & Pick<WorkerFixtureConfig, 'worker' | 'manager'> & InNetns;

/** Forks `<front>-worker.js` and waits until its mesh server listens (registration is the 'connected' event). */
export async function startWorker(front: Front, config: WorkerStartConfig): Promise<WorkerHandle> {
  assertFixtures(front);
  const { netns, ...rest } = config;
  const full: WorkerFixtureConfig = { ...TEST_KEYS, allow: [], connect: [], logLevel: 'info', ...rest };
  const label = `${front}-${full.worker}#${full.variant ?? ++counter}`;
  const proc = new FixtureProcess(label, 'worker', fixturePath(front, 'worker'), full, netns);
  const ready = await proc.waitReady().catch(async (err: Error) => {
    await proc.kill();
    throw err;
  });
  const variant = ready.variant ?? full.variant;
  if (typeof variant !== 'string') {
    await proc.kill();
    throw new Error(`${label}: its 'ready' message carries no variant`);
  }

  const call = async (
    worker: string,
    command: string,
    payload?: unknown,
    options?: Record<string, unknown>,
  ): Promise<CallResult> => {
    // The fixture's own call timeout decides; this only guards against a fixture that never answers.
    const timeout = typeof options?.timeout === 'number' ? options.timeout : (full.timeout ?? 10_000);
    const message = await proc.request({ type: 'call', worker, command, payload, options }, timeout + 10_000);
    return message.ok ? { ok: true, value: message.value } : { ok: false, error: message.error };
  };

  const handle: WorkerHandle = {
    process: proc,
    worker: full.worker,
    variant,
    port: ready.port,
    events: proc.events,
    history: proc.history,
    exited: proc.exited,
    call,
    async callOk<T>(worker: string, command: string, payload?: unknown, options?: Record<string, unknown>): Promise<T> {
      const result = await call(worker, command, payload, options);
      if (result.ok) return result.value as T;
      throw Object.assign(
        new Error(`${label} → ${worker}.${command}: ${result.error.code} ${result.error.message}`),
        result.error,
      );
    },
    async peers(worker?: string) {
      const message = await proc.request({ type: 'peers', worker }, 10_000);
      if (!message.ok) throw new Error(`${label}: peers failed: ${message.error.message}`);
      return message.value as { worker: string; variant: string; host: string; port: number }[];
    },
    mark: () => proc.history.length,
    waitForEvent(name, predicate = () => true, timeoutMs = 10_000, since = 0) {
      const found = proc.history.slice(since).find((r) => r.name === name && predicate(r.payload));
      if (found) return Promise.resolve(found);
      return new Promise<MeshEventRecord>((resolve, reject) => {
        const done = (err: Error | undefined, record?: MeshEventRecord) => {
          clearTimeout(timer);
          proc.events.off('mesh-event', onEvent);
          proc.events.off('exit', onExit);
          if (err) reject(err);
          else resolve(record!);
        };
        const onEvent = (record: MeshEventRecord) => {
          if (record.name === name && predicate(record.payload)) done(undefined, record);
        };
        const onExit = () => done(new Error(`${label} exited while waiting for event '${name}'`));
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `${label}: no '${name}' event within ${timeoutMs} ms. Events: ${JSON.stringify(proc.history.slice(since))}`,
              ),
            ),
          timeoutMs,
        );
        proc.events.on('mesh-event', onEvent);
        proc.events.on('exit', onExit);
      });
    },
    kill: (signal: NodeJS.Signals = 'SIGKILL') => proc.kill(signal),
    stop: () => proc.stop(),
    output: () => proc.output(),
  };
  return handle;
}

/** Every fixture process still running. */
export function runningProcesses(): FixtureProcess[] {
  return [...registry.children];
}

/**
 * Ends every fixture process: a graceful stop first (workers in parallel, then managers, so
 * workers can unregister), SIGKILL for any that does not end in time. Never rejects; returns
 * the labels of processes that had to be killed.
 */
export async function stopAll(): Promise<string[]> {
  const killed: string[] = [];
  const stop = (procs: FixtureProcess[]) =>
    Promise.all(
      procs.map(async (proc) => {
        try {
          await proc.stop();
        } catch {
          killed.push(proc.label);
          await proc.kill('SIGKILL');
        }
      }),
    );
  await stop(runningProcesses().filter((p) => p.role === 'worker'));
  await stop(runningProcesses());
  return killed;
}

/** SIGKILL every fixture process and wait until all have exited. */
export async function killAll(): Promise<void> {
  await Promise.all(runningProcesses().map((proc) => proc.kill('SIGKILL')));
}
