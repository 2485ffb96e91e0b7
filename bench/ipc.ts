/**
 * Control channel between the bench runner and the processes it forks: the runner sends
 * requests (`op` + args) and awaits one answer each; a child can also push events
 * ('ready' once it is set up). Control only: no measured traffic goes over IPC.
 *
 * Child side: `serve(handlers, stop)`; parent side: `BenchChild.start(...)`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface RequestMessage {
  t: 'req';
  id: number;
  op: string;
  args?: unknown;
}
interface ResponseMessage {
  t: 'res';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}
interface EventMessage {
  t: 'evt';
  event: string;
  data?: unknown;
}
type ChildMessage = ResponseMessage | EventMessage;

// ---------------------------------------------------------------- child side

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handlers = Record<string, (args: any) => unknown>;

/** The JSON config the runner passed as argv[2]. */
export function childConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Tells the parent something happened (`ready` with the child's facts, typically). */
export function emitToParent(event: string, data?: unknown): void {
  process.send?.({ t: 'evt', event, data } satisfies EventMessage);
}

/**
 * Answers the runner's requests with `handlers`. The `stop` op runs `stop()`, answers, then lets
 * the process end by itself: if something still holds the event loop 5 s later, the leftover
 * handles are printed and the process exits with code 1, so a leak is visible and nothing hangs.
 * A parent that disappears ends the child the same way.
 */
export function serve(handlers: Handlers, stop: () => Promise<void>): void {
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= stop().finally(() => {
      const timer = setTimeout(() => {
        console.error(`[bench] ${process.argv[1]} still has open handles: ${process.getActiveResourcesInfo().join(', ')}`);
        process.exit(1);
      }, 5_000);
      timer.unref();
    });
    return stopping;
  };
  process.on('message', (raw: unknown) => {
    const msg = raw as RequestMessage;
    if (msg?.t !== 'req') return;
    const reply = (m: Omit<ResponseMessage, 't' | 'id'>) => {
      if (process.connected) process.send?.({ t: 'res', id: msg.id, ...m } satisfies ResponseMessage);
    };
    if (msg.op === 'stop') {
      void shutdown().then(
        () => {
          reply({ ok: true });
          if (process.connected) process.disconnect();
        },
        (err: unknown) => {
          reply({ ok: false, error: describe(err) });
          if (process.connected) process.disconnect();
        },
      );
      return;
    }
    const handler = handlers[msg.op];
    if (!handler) return reply({ ok: false, error: `unknown op '${msg.op}'` });
    Promise.resolve()
      .then(() => handler(msg.args))
      .then(
        (value) => reply({ ok: true, value }),
        (err: unknown) => reply({ ok: false, error: describe(err) }),
      );
  });
  process.on('disconnect', () => void shutdown());
}

/** Runs the child's start-up, then reports 'ready' (or the failure, and exits). */
export function startChild(setup: () => Promise<unknown>): void {
  setup().then(
    (facts) => emitToParent('ready', facts),
    (err: unknown) => {
      console.error(`[bench] ${process.argv[1]} failed to start: ${describe(err)}`);
      process.exit(1);
    },
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

// ---------------------------------------------------------------- parent side

const live = new Set<ChildProcess>();
// Whatever way the runner ends, no child outlives it.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface StartOptions {
  /** Extra node flags (the children always get --expose-gc for memory readings). */
  execArgv?: string[];
  readyTimeoutMs?: number;
}

export class BenchChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    live.add(proc);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        this.exitInfo = { code, signal };
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${name} exited (code ${code}, signal ${signal}) with a request pending`));
        }
        this.pending.clear();
        resolve({ code, signal });
      });
    });
    proc.on('message', (raw: unknown) => {
      const msg = raw as ChildMessage;
      if (msg?.t !== 'res') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`${name}: ${msg.error}`));
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Forks `bench/<script>.js` (next to this file) with `config` as argv[2]; resolves with its 'ready' facts. */
  static start<R = unknown>(
    name: string,
    script: string,
    config: unknown,
    options: StartOptions = {},
  ): Promise<{ child: BenchChild; ready: R }> {
    const path = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
    const proc = fork(path, [JSON.stringify(config)], {
      execArgv: ['--expose-gc', ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new BenchChild(name, proc);
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (raw: unknown) => {
        const msg = raw as ChildMessage;
        if (msg?.t === 'evt' && msg.event === 'ready') {
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve({ child, ready: msg.data as R });
        }
      };
      proc.on('message', onMessage);
      void child.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
  }

  request<T = unknown>(op: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
    if (this.exitInfo) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${op}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ t: 'req', id, op, args } satisfies RequestMessage);
    });
  }

  /**
   * Asks the child to close everything and waits for it to exit by itself. Returns false (and
   * kills it) when it did not exit within `timeoutMs` or exited with a non-zero code.
   */
  async stop(timeoutMs = 15_000): Promise<boolean> {
    if (this.exitInfo) return this.exitInfo.code === 0;
    await this.request('stop', undefined, timeoutMs).catch((err: Error) => console.error(`[bench] ${err.message}`));
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.exited,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (result === 'timeout') {
      console.error(`[bench] ${this.name} did not exit within ${timeoutMs} ms; killing it`);
      this.proc.kill('SIGKILL');
      await this.exited;
      return false;
    }
    if (result.code !== 0) console.error(`[bench] ${this.name} exited with code ${result.code} (signal ${result.signal})`);
    return result.code === 0;
  }

  /** SIGKILL, as a crash would end it; resolves once it has exited. */
  async kill(): Promise<void> {
    if (!this.exitInfo) this.proc.kill('SIGKILL');
    await this.exited;
  }
}
