/**
 * The contract between e2e tests and the fixture processes they fork
 * (`build/test/fixtures/<front>-worker.js`, `<front>-manager.js`; front = 'nest' | 'plain').
 * The config travels in the MESH_CONFIG environment variable as JSON; messages go over
 * the fork IPC channel (process.send / child.on('message')).
 *
 * Every worker fixture serves the same standard commands, so one test can drive either front:
 *   balanced  status({ test })          -> { status: `ok ${test}`, variant }
 *   balanced  echo(payload)             -> payload
 *   balanced  fail({ message, status? }) -> throws (nest: HttpException(message, status) when status is set)
 *   balanced  slow({ ms })              -> after ms: { variant }
 *   broadcast responds  collect({ test }) -> { command: test, variant }
 *   broadcast plain     notify(payload)   -> records payload
 *   broadcast queued    ingest({ id, ms? }) -> records { id, start, end } (runs ms)
 *   balanced  log()                     -> { notified: unknown[], ingested: { id, start, end }[] }
 */

export interface WorkerFixtureConfig {
  worker: string;
  /** instanceId / variant */
  variant?: string;
  manager: { host: string; port: number } | { url: string };
  meshPort?: number;
  advertiseHost?: string;
  allow: string[] | 'anyNode';
  connect: string[];
  publicKey: string;
  privateKey: string;
  /** queues in Redis when set (redis://host:port) */
  redis?: string;
  timeout?: number;
  drainTimeout?: number;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface ManagerFixtureConfig {
  publicKey: string;
  privateKey: string;
  /** socket port; undefined -> a free one, discoverable over HTTP */
  port?: number;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface SerializedFixtureError {
  name: string;
  code?: string;
  message: string;
  status?: number;
  remoteName?: string;
  outcomes?: unknown[];
}

/** parent -> child */
export type FixtureRequest =
  | { type: 'call'; id: number; worker: string; command: string; payload?: unknown; options?: Record<string, unknown> }
  | { type: 'peers'; id: number; worker?: string }
  | { type: 'close'; id: number };

/** child -> parent */
export type FixtureMessage =
  /** worker: mesh server listens (port) — registration is reported as event 'connected'. manager: socket port (+ httpPort for Nest / discoveryPort for plain) */
  | { type: 'ready'; variant?: string; port: number; httpPort?: number }
  | { type: 'event'; name: 'connected' | 'peer.connected' | 'peer.disconnected'; payload: { worker: string; variant: string; direction?: string } }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedFixtureError };
