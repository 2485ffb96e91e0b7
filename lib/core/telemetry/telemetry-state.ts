import type { Histogram, Meter, Tracer } from '@opentelemetry/api';
import { SeriesTable } from './call-series.js';
import { loadOtel, type Otel } from './otel-loader.js';

/** The instruments socket-mesh records into (names and units: README, "Observability"). */
export interface MeshInstruments {
  clientDuration: Histogram;
  serverDuration: Histogram;
  /** Per (worker, command): cached attributes and the in-flight counts the observable counters read. */
  client: SeriesTable;
  server: SeriesTable;
  queueWait: Histogram;
}

/** What observable gauges read at collection time; a node adds its own while it runs. */
export interface GaugeSource {
  /** Connected (ready) instances per worker this node calls. */
  peers(): Iterable<[worker: string, count: number]>;
  /** Requests waiting per queued command of this node. */
  queues(): Iterable<[worker: string, command: string, waiting: number]>;
}

/**
 * Process-wide: undefined fields mean "off", and every hook in the call path returns at once on
 * them. Decided when a node starts (not per call): register the OpenTelemetry SDK before that.
 */
export const telemetry: { otel?: Otel; tracer?: Tracer; instruments?: MeshInstruments } = {};

export const gaugeSources = new Set<GaugeSource>();

const NAME = 'socket-mesh';
let instrumentedMeter: Meter | undefined;

/**
 * Whether any copy of `@opentelemetry/api` registered something process-wide (an SDK's
 * providers, a context manager, a propagator): it keeps them under a global symbol named
 * `opentelemetry.js.api.<major>`. Without one every span and instrument would be a no-op.
 */
function otelRegistered(): boolean {
  return Object.getOwnPropertySymbols(globalThis).some((s) => s.description?.startsWith('opentelemetry.js.api.'));
}

/** Loads the API (once) and looks whether an SDK is registered for traces and for metrics. */
export async function enableTelemetry(): Promise<void> {
  // Nothing registered: telemetry stays off without loading the API (about 20 ms of start-up).
  if (!telemetry.otel && !otelRegistered()) return;
  const otel = await loadOtel();
  if (!otel) return;
  telemetry.otel = otel;
  const provider = otel.trace.getTracerProvider();
  // A ProxyTracerProvider without a delegate means no SDK: spans would all be no-ops.
  telemetry.tracer = provider instanceof otel.ProxyTracerProvider ? provider.getDelegateTracer(NAME) : provider.getTracer(NAME);
  const meter = otel.metrics.getMeter(NAME);
  if (meter.constructor === otel.createNoopMeter().constructor) return;
  if (meter !== instrumentedMeter) {
    instrumentedMeter = meter;
    telemetry.instruments = createInstruments(meter);
  }
}

function createInstruments(meter: Meter): MeshInstruments {
  const peers = meter.createObservableGauge('socket_mesh.peers.connected', {
    description: 'Connected (ready) instances of each worker this node calls',
    unit: '{instance}',
  });
  peers.addCallback((result) => {
    for (const source of gaugeSources) {
      for (const [worker, count] of source.peers()) result.observe(count, { 'rpc.service': worker });
    }
  });
  const waiting = meter.createObservableGauge('socket_mesh.queue.waiting', {
    description: 'Queued requests stored and not yet started',
    unit: '{request}',
  });
  waiting.addCallback((result) => {
    for (const source of gaugeSources) {
      for (const [worker, command, count] of source.queues()) {
        result.observe(count, { 'rpc.service': worker, 'rpc.method': command });
      }
    }
  });
  const client = new SeriesTable();
  const server = new SeriesTable();
  meter
    .createObservableUpDownCounter('socket_mesh.client.in_flight', {
      description: 'Calls made and not yet settled',
      unit: '{request}',
    })
    .addCallback((result) => {
      for (const series of client.values()) result.observe(series.inFlight, series.attributes);
    });
  meter
    .createObservableUpDownCounter('socket_mesh.server.in_flight', { description: 'Requests being handled', unit: '{request}' })
    .addCallback((result) => {
      for (const series of server.values()) result.observe(series.inFlight, series.attributes);
    });
  return {
    client,
    server,
    clientDuration: meter.createHistogram('rpc.client.duration', {
      description: 'Duration of calls made, as the caller sees them',
      unit: 'ms',
    }),
    serverDuration: meter.createHistogram('rpc.server.duration', {
      description: 'Duration of requests handled (queued: until stored)',
      unit: 'ms',
    }),
    queueWait: meter.createHistogram('socket_mesh.queue.wait.duration', {
      description: 'Time a queued request waited between being stored and being started',
      unit: 'ms',
    }),
  };
}
