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
  /** One manager, or several (the worker registers with each: plain `managers`, Nest `manager: [...]`). */
  manager: { host: string; port: number } | { url: string } | { host: string; port: number }[];
  meshPort?: number;
  /** Address the mesh server binds to. */
  bindHost?: string;
  /** Its 'status' handler never answers (a hung instance, for the failure detector). */
  hangStatus?: boolean;
  advertiseHost?: string;
  allow: string[] | 'anyNode';
  connect: string[];
  publicKey: string;
  /** One key, or a list (current first) during a key rotation. */
  privateKey: string | string[];
  /** queues in Redis when set (redis://host:port) */
  redis?: string;
  timeout?: number;
  drainTimeout?: number;
  /** Requests one caller instance may have running here at once (core default 4096). */
  maxInFlight?: number;
  /** Calls this worker may have waiting on one peer instance (core default 10 000). */
  maxPending?: number;
  /** Declared retries of the balanced commands status and slow (as `@Balanced({ retries })` / `{ method, retries }`). */
  retries?: number;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The event callbacks / @OnMeshEvent handlers are async and reject after reporting the event. */
  failingCallbacks?: boolean;
  /** Identities with TLS: PEM strings (ca: one, a bundle, or a list). */
  tls?: FixtureTls;
}

export interface FixtureTls {
  key: string;
  cert: string;
  ca: string | string[];
}

export interface ManagerFixtureConfig {
  publicKey: string;
  privateKey: string | string[];
  /** socket port; undefined -> a free one, discoverable over HTTP */
  port?: number;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  tls?: FixtureTls;
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
  | { type: 'close'; id: number }
  | LoadRequest;

/**
 * Load generation inside a worker fixture (implemented once in `test/fixtures/load-runner.ts`).
 * action 'run' (default): makes calls to `worker` with `concurrency` of them in flight, until
 * `total` calls were started, `durationMs` passed or a 'stop' for its `tag` came, then answers
 * with a LoadSummary once every call settled. 'stats': answers at once with the live summary of
 * run `tag` (if there is one) and a ProcessSample. 'stop': run `tag` starts no more calls.
 */
export interface LoadRequest {
  type: 'load';
  id: number;
  action?: 'run' | 'stats' | 'stop';
  /** Names the run, for 'stats' / 'stop' and in payload ids (default 'load'). */
  tag?: string;
  worker?: string;
  /** One command for every call ('status', 'echo', 'slow', 'collect')… */
  command?: string;
  /** …or a weighted mix of them, chosen per call by the seeded PRNG: { status: 8, collect: 2 }. */
  mix?: Record<string, number>;
  total?: number;
  durationMs?: number;
  concurrency?: number;
  /** Padding characters added to every payload (default 0). */
  payloadSize?: number;
  /** `ms` of 'slow' calls (default 100). */
  slowMs?: number;
  /** Call options of every call (timeout, retries, only, exclude, settle). */
  options?: Record<string, unknown>;
  seed?: number;
  /** A variant silent this long and then answering again counts as a resume (default 250 ms). */
  gapMs?: number;
  /** How many failure records the summary keeps (default 20 000). */
  keepFailures?: number;
  /** Sample memory after a full GC: before and after a run, or for 'stats'. */
  gc?: boolean;
}

/** Memory and live handles of a fixture process. */
export interface ProcessSample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** process.getActiveResourcesInfo() counted by type (Timeout, TCPSocketWrap, …). */
  handles: Record<string, number>;
  /** True when a full GC ran just before the sample. */
  gc: boolean;
}

/** One failed call of a load run. Times are Date.now() in the fixture (same clock as the test). */
export interface LoadFailure {
  n: number;
  command: string;
  code: string;
  /** The instance the error names, when it names one. */
  variant?: string;
  /** For MESH_PARTIAL_FAILURE: every instance that failed, with its code. */
  inner?: { code: string; variant?: string }[];
  startedAt: number;
  endedAt: number;
}

/** Answers of one instance during a run. */
export interface LoadVariantStats {
  ok: number;
  firstAt: number;
  lastAt: number;
  /** Times it answered again after a silence longer than gapMs. */
  resumes: number[];
}

export interface LoadSummary {
  tag: string;
  /** Calls started. */
  calls: number;
  /** Calls settled (equals calls once the run answered). */
  settled: number;
  ok: number;
  /** Failed calls by error code. */
  byCode: Record<string, number>;
  /** Per command: calls and successes. */
  byCommand: Record<string, { calls: number; ok: number }>;
  /** Inside MESH_PARTIAL_FAILURE: failed instance outcomes by code. */
  partialInner: Record<string, number>;
  /** Answers that did not carry the call's own id, or had the wrong shape. */
  mismatches: number;
  mismatchSamples: string[];
  /** Calls that settled more than once (never expected). */
  duplicates: number;
  peakInFlight: number;
  maxLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  /** Slowest settle per outcome ('ok' or the error code). */
  maxLatencyByOutcome: Record<string, number>;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  byVariant: Record<string, LoadVariantStats>;
  failures: LoadFailure[];
  failuresDropped: number;
  memoryBefore?: ProcessSample;
  memoryAfter?: ProcessSample;
}

/** A summary with nothing counted yet. */
export function emptySummary(tag: string, startedAt: number, endedAt = startedAt): LoadSummary {
  return {
    tag,
    calls: 0,
    settled: 0,
    ok: 0,
    byCode: {},
    byCommand: {},
    partialInner: {},
    mismatches: 0,
    mismatchSamples: [],
    duplicates: 0,
    peakInFlight: 0,
    maxLatencyMs: 0,
    p50LatencyMs: 0,
    p99LatencyMs: 0,
    maxLatencyByOutcome: {},
    startedAt,
    endedAt,
    durationMs: 0,
    byVariant: {},
    failures: [],
    failuresDropped: 0,
  };
}

/** A mesh event as the fixture process itself saw it, stamped with its own Date.now(). */
export interface LocalMeshEvent {
  name: 'connected' | 'peer.connected' | 'peer.disconnected';
  worker: string;
  variant: string;
  direction?: string;
  at: number;
}

/** The value of a 'stats' answer. */
export interface LoadStats {
  process: ProcessSample;
  run?: LoadSummary;
  /** Every mesh event the process reported so far, timed where it happened (not when the test got it). */
  events: LocalMeshEvent[];
}

/** child -> parent */
export type FixtureMessage =
  /** worker: mesh server listens (port) — registration is reported as event 'connected'. manager: socket port (+ httpPort for Nest / discoveryPort for plain) */
  | { type: 'ready'; variant?: string; port: number; httpPort?: number }
  | {
      type: 'event';
      name: 'connected' | 'peer.connected' | 'peer.disconnected';
      payload: { worker: string; variant: string; direction?: string };
    }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedFixtureError };
