/**
 * OpenTelemetry traces and metrics across real processes: caller A → NodeB → NodeC (two
 * instances), each process with the SDK's in-memory exporters (test/fixtures/otel-node.ts).
 * One trace id from the caller's "HTTP" span down to the callee's handler, correct parent links,
 * a child span per broadcast instance, PRODUCER/CONSUMER for a queued request, and metric
 * values matching the calls made.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FixtureProcess, REPO_ROOT, startManager, stopAll, TEST_KEYS } from './support/mesh-process.js';
import type { WorkerFixtureConfig } from './support/fixture-protocol.js';
import { waitFor } from './support/wait-for.js';

interface SpanRecord {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: number;
  links: string[];
}
interface MetricPoint {
  name: string;
  unit: string;
  attributes: Record<string, unknown>;
  value: number | { count: number; sum?: number };
}
interface Dump {
  spans: SpanRecord[];
  metrics: MetricPoint[];
}

const suffix = process.pid.toString(36);
const [A, B, C] = [`OtelA${suffix}`, `OtelB${suffix}`, `OtelC${suffix}`];
const FIXTURE = join(REPO_ROOT, 'build', 'test', 'fixtures', 'otel-node.js');

async function startOtelNode(config: Pick<WorkerFixtureConfig, 'worker' | 'manager' | 'allow' | 'connect' | 'variant'>) {
  const proc = new FixtureProcess(`otel-${config.worker}-${config.variant}`, 'worker', FIXTURE, { ...TEST_KEYS, ...config });
  await proc.waitReady();
  return proc;
}

async function call(
  proc: FixtureProcess,
  worker: string,
  command: string,
  payload?: unknown,
): Promise<{ ok: boolean; value?: unknown; code?: string }> {
  const result = await proc.request({ type: 'call', worker, command, payload }, 20_000);
  return result.ok ? { ok: true, value: result.value } : { ok: false, code: result.error.code };
}

const dump = async (proc: FixtureProcess): Promise<Dump> => (await call(proc, '__otel', 'dump')).value as Dump;

function points(d: Dump, name: string, attrs: Record<string, unknown>): MetricPoint[] {
  return d.metrics.filter((p) => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}
const histogramCount = (d: Dump, name: string, attrs: Record<string, unknown>): number =>
  points(d, name, attrs).reduce((n, p) => n + (p.value as { count: number }).count, 0);
const gauge = (d: Dump, name: string, attrs: Record<string, unknown>): number | undefined =>
  points(d, name, attrs).at(-1)?.value as number | undefined;

let a: FixtureProcess;
let b: FixtureProcess;
let c1: FixtureProcess;
let c2: FixtureProcess;

beforeAll(async () => {
  const manager = await startManager('plain');
  const at = { host: '127.0.0.1', port: manager.port };
  c1 = await startOtelNode({ worker: C, variant: 'c1', manager: at, allow: [B], connect: [] });
  c2 = await startOtelNode({ worker: C, variant: 'c2', manager: at, allow: [B], connect: [] });
  b = await startOtelNode({ worker: B, variant: 'b1', manager: at, allow: [A], connect: [C] });
  a = await startOtelNode({ worker: A, variant: 'a1', manager: at, allow: [], connect: [B] });
  // Links are up when the connected-peers gauges say so.
  await waitFor(
    async () => gauge(await dump(b), 'socket_mesh.peers.connected', { 'rpc.service': C }) === 2,
    15_000,
    'NodeB linked to both NodeC',
  );
  await waitFor(
    async () => gauge(await dump(a), 'socket_mesh.peers.connected', { 'rpc.service': B }) === 1,
    15_000,
    'A linked to NodeB',
  );
});

afterAll(async () => {
  await stopAll();
});

describe('traces', () => {
  it('runs one trace from an HTTP span on the caller through NodeB to NodeC, with correct parents', async () => {
    const result = await call(a, '__otel', 'incoming', { worker: B, command: 'relay', payload: { to: C, command: 'leaf' } });
    expect(result.ok).toBe(true);
    const [da, db] = [await dump(a), await dump(b)];
    const http = da.spans.find((s) => s.name === 'GET /relay')!;
    const aClient = da.spans.find((s) => s.kind === 'CLIENT' && s.name === `${B}/relay` && s.traceId === http.traceId)!;
    expect(aClient.parentSpanId).toBe(http.spanId);
    expect(aClient.attributes).toMatchObject({
      'rpc.system': 'socket-mesh',
      'rpc.service': B,
      'rpc.method': 'relay',
      'socket_mesh.variant': 'b1',
    });
    const bServer = db.spans.find((s) => s.kind === 'SERVER' && s.traceId === http.traceId)!;
    expect(bServer).toMatchObject({ name: `${B}/relay`, parentSpanId: aClient.spanId });
    expect(bServer.attributes['socket_mesh.caller']).toBe(`${A}/a1`);
    const bClient = db.spans.find((s) => s.kind === 'CLIENT' && s.traceId === http.traceId)!;
    expect(bClient).toMatchObject({ name: `${C}/leaf`, parentSpanId: bServer.spanId });
    const answered = (result.value as { variant: string }).variant;
    expect(bClient.attributes['socket_mesh.variant']).toBe(answered);
    const dc = await dump(answered === 'c1' ? c1 : c2);
    const cServer = dc.spans.find((s) => s.kind === 'SERVER' && s.traceId === http.traceId)!;
    expect(cServer).toMatchObject({ name: `${C}/leaf`, parentSpanId: bClient.spanId, status: 0 });
  });

  it("gives a broadcast one child span per instance, each parent of that instance's SERVER span", async () => {
    const result = await call(a, B, 'relay', { to: C, command: 'fan' });
    expect(result.ok).toBe(true);
    const db = await dump(b);
    const outer = db.spans.find(
      (s) => s.name === `${C}/fan` && s.kind === 'CLIENT' && s.attributes['socket_mesh.variant'] === undefined,
    )!;
    const children = db.spans.filter((s) => s.parentSpanId === outer.spanId && s.kind === 'CLIENT');
    expect(children.map((s) => s.attributes['socket_mesh.variant']).sort()).toEqual(['c1', 'c2']);
    for (const [proc, v] of [
      [c1, 'c1'],
      [c2, 'c2'],
    ] as const) {
      const server = (await dump(proc)).spans.find((s) => s.kind === 'SERVER' && s.traceId === outer.traceId)!;
      expect(server.parentSpanId).toBe(children.find((s) => s.attributes['socket_mesh.variant'] === v)!.spanId);
    }
  });

  it('marks a failure ERROR with its code on both sides', async () => {
    const result = await call(a, B, 'relay', { to: C, command: 'boom' });
    expect(result).toMatchObject({ ok: false, code: 'MESH_REMOTE_ERROR' });
    const da = await dump(a);
    const failed = da.spans.find((s) => s.name === `${B}/relay` && s.status === 2)!;
    expect(failed.attributes['socket_mesh.error_code']).toBe('MESH_REMOTE_ERROR');
    const servers = [...(await dump(c1)).spans, ...(await dump(c2)).spans].filter((s) => s.name === `${C}/boom`);
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ kind: 'SERVER', status: 2, traceId: failed.traceId });
    expect(servers[0]!.attributes['socket_mesh.error_code']).toBe('MESH_REMOTE_ERROR');
  });

  it('records a queued request as a PRODUCER span when stored and a linked CONSUMER span when run', async () => {
    const result = await call(a, B, 'relay', { to: C, command: 'ingest' });
    expect(result).toMatchObject({ ok: true, value: { queued: 2 } });
    const traceId = (await dump(b)).spans.find((s) => s.name === `${C}/ingest` && s.kind === 'CLIENT')!.traceId;
    for (const proc of [c1, c2]) {
      const spans = await waitFor(
        async () => {
          const found = (await dump(proc)).spans.filter((s) => s.name === `${C}/ingest` && s.traceId === traceId);
          return found.length === 2 ? found : undefined;
        },
        10_000,
        'the PRODUCER and CONSUMER spans',
      );
      const producer = spans.find((s) => s.kind === 'PRODUCER')!;
      const consumer = spans.find((s) => s.kind === 'CONSUMER')!;
      expect(consumer.parentSpanId).toBe(producer.spanId);
      expect(consumer.links).toEqual([producer.spanId]);
    }
  });
});

describe('metrics', () => {
  it('match the calls made (the trace tests above made them)', async () => {
    const [da, db] = [await dump(a), await dump(b)];
    const dcs = [await dump(c1), await dump(c2)];
    const relay = { 'rpc.system': 'socket-mesh', 'rpc.service': B, 'rpc.method': 'relay' };
    // A: relay→leaf, relay→fan, relay→boom (failed), relay→ingest.
    expect(histogramCount(da, 'rpc.client.duration', { ...relay, 'socket_mesh.outcome': 'OK' })).toBe(3);
    expect(histogramCount(da, 'rpc.client.duration', { ...relay, 'socket_mesh.outcome': 'MESH_REMOTE_ERROR' })).toBe(1);
    expect(points(da, 'rpc.client.duration', relay)[0]!.unit).toBe('ms');
    expect(histogramCount(db, 'rpc.server.duration', { ...relay, 'socket_mesh.outcome': 'OK' })).toBe(3);
    expect(histogramCount(db, 'rpc.server.duration', { ...relay, 'socket_mesh.outcome': 'MESH_REMOTE_ERROR' })).toBe(1);
    for (const command of ['leaf', 'fan', 'ingest']) {
      expect(
        histogramCount(db, 'rpc.client.duration', { 'rpc.service': C, 'rpc.method': command, 'socket_mesh.outcome': 'OK' }),
      ).toBe(1);
    }
    expect(
      histogramCount(db, 'rpc.client.duration', {
        'rpc.service': C,
        'rpc.method': 'boom',
        'socket_mesh.outcome': 'MESH_REMOTE_ERROR',
      }),
    ).toBe(1);
    const onC = (name: string, attrs: Record<string, unknown>) => dcs.reduce((n, d) => n + histogramCount(d, name, attrs), 0);
    expect(onC('rpc.server.duration', { 'rpc.method': 'leaf' })).toBe(1);
    expect(onC('rpc.server.duration', { 'rpc.method': 'fan' })).toBe(2);
    expect(onC('rpc.server.duration', { 'rpc.method': 'ingest' })).toBe(2);
    expect(onC('rpc.server.duration', { 'rpc.method': 'boom', 'socket_mesh.outcome': 'MESH_REMOTE_ERROR' })).toBe(1);
    expect(onC('socket_mesh.queue.wait.duration', { 'rpc.method': 'ingest' })).toBe(2);
    for (const d of dcs) expect(gauge(d, 'socket_mesh.queue.waiting', { 'rpc.method': 'ingest' })).toBe(0);
    // Nothing in flight once every call settled.
    expect(gauge(da, 'socket_mesh.client.in_flight', relay)).toBe(0);
    expect(gauge(db, 'socket_mesh.server.in_flight', relay)).toBe(0);
    expect(gauge(db, 'socket_mesh.peers.connected', { 'rpc.service': C })).toBe(2);
  });
});
