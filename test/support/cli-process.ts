/**
 * Runs the compiled `socket-mesh` CLI (build/lib/cli/main.js) as a real process: one-shot
 * commands to completion, or a long-running `manager` until its ready line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, TEST_KEYS } from './mesh-process.js';

export const CLI_PATH = join(REPO_ROOT, 'build', 'lib', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} missing: run \`npm run build:all\` first`);
}

/** Environment for the CLI: the test keys unless `env` overrides them (undefined removes a variable). */
export function cliEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    MESH_PUBLIC_KEY: TEST_KEYS.publicKey,
    MESH_PRIVATE_KEY: TEST_KEYS.privateKey,
  };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** Runs `socket-mesh ...args` to its end (killed after `timeoutMs`). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 20_000): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`socket-mesh ${args.join(' ')} did not end within ${timeoutMs} ms. stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface CliManager {
  child: ChildProcess;
  port: number;
  httpPort: number;
  output(): string;
  /** Sends `signal` and resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const READY = /socket-mesh manager ready: sockets on port (\d+), HTTP on http:\/\/[^:]+:(\d+)/;

/** Starts `socket-mesh manager ...args` and resolves once it prints its ready line. */
export function startCliManager(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 20_000,
): Promise<CliManager> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, 'manager', ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const echo = Boolean(process.env.MESH_DEBUG);
  const capture = (c: Buffer) => {
    out += c.toString();
    if (echo) process.stderr.write(`[cli-manager] ${c.toString()}`);
  };
  child.stdout!.on('data', capture);
  child.stderr!.on('data', capture);
  const handle = (port: number, httpPort: number): CliManager => ({
    child,
    port,
    httpPort,
    output: () => out,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the CLI manager was not ready within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = READY.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(handle(Number(m[1]), Number(m[2])));
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the CLI manager exited (code ${code}, signal ${signal}) before it was ready:\n${out}`));
    });
  });
}
