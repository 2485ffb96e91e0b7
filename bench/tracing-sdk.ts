/**
 * `tracing.ts`'s "sdk" mode: the OpenTelemetry SDK as an app would register it (every span
 * sampled, a batch processor, W3C propagation, a meter provider with a reader), exporting to
 * exporters that drop everything: what is measured is recording, not shipping.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

const dropSpans: SpanExporter = {
  export: (_spans, done: (result: ExportResult) => void) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done: (result: ExportResult) => void) => done({ code: 0 }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

export function registerSdk(): () => Promise<void> {
  // TRACING_SDK_PARTS (comma list of traces, metrics; default both): to see which part costs what.
  // 'no-context' leaves out the AsyncLocalStorage context manager (spans then do not nest across awaits).
  const parts = (process.env.TRACING_SDK_PARTS ?? 'traces,metrics').split(',');
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] });
  if (parts.includes('traces')) {
    trace.setGlobalTracerProvider(tracerProvider);
    if (!parts.includes('no-context')) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1000 })],
  });
  if (parts.includes('metrics')) metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  };
}
