import type { Span } from '@opentelemetry/api';
import { ERROR_CODE, outcomeCode, rpcAttributes, spanAttributes, VARIANT } from './rpc-attributes.js';
import { telemetry } from './telemetry-state.js';
import type { TraceSlot } from './trace-slot.js';

/**
 * One call made through a node: a CLIENT span (the handler's calls and the HTTP request that
 * led here are its parents through the active context) and the caller's metrics.
 */
export function observeCall<T>(worker: string, command: string, run: () => Promise<T>): Promise<T> {
  const { otel, tracer, instruments } = telemetry;
  if (!otel || (!tracer && !instruments)) return run();
  const series = instruments?.client.get(worker, command);
  const attributes = series?.attributes ?? spanAttributes(worker, command);
  const started = performance.now();
  if (series) series.inFlight++;
  let span: Span | undefined;
  let promise: Promise<T>;
  if (tracer) {
    const parent = otel.context.active();
    span = tracer.startSpan(`${worker}/${command}`, { kind: otel.SpanKind.CLIENT, attributes }, parent);
    promise = otel.context.with(otel.trace.setSpan(parent, span), run);
  } else {
    promise = run();
  }
  const finish = (code: string): void => {
    if (series) {
      series.inFlight--;
      instruments!.clientDuration.record(performance.now() - started, series.outcome(code));
    }
    if (span) endSpan(span, code);
  };
  return promise.then(
    (value) => {
      finish('OK');
      return value;
    },
    (err: unknown) => {
      finish(outcomeCode(err));
      throw err;
    },
  );
}

/** A broadcast's request to one instance: a child CLIENT span of the call's span. */
export function observeInstance<T>(worker: string, command: string, variant: string, run: () => Promise<T>): Promise<T> {
  const { otel, tracer } = telemetry;
  if (!otel || !tracer) return run();
  const parent = otel.context.active();
  const span = tracer.startSpan(
    `${worker}/${command}`,
    { kind: otel.SpanKind.CLIENT, attributes: { ...rpcAttributes(worker, command), [VARIANT]: variant } },
    parent,
  );
  return otel.context.with(otel.trace.setSpan(parent, span), run).then(
    (value) => {
      endSpan(span, 'OK');
      return value;
    },
    (err: unknown) => {
      endSpan(span, outcomeCode(err));
      throw err;
    },
  );
}

/**
 * The trace slot of a request about to be sent (JSON), for the active context; undefined when
 * tracing is off. Also names the instance on the CLIENT span (the last one tried, on retries).
 */
export function outgoingTraceJson(variant: string): string | undefined {
  const { otel, tracer } = telemetry;
  if (!otel || !tracer) return undefined;
  const active = otel.context.active();
  otel.trace.getSpan(active)?.setAttribute(VARIANT, variant);
  const slot: TraceSlot = {};
  otel.propagation.inject(active, slot);
  return Object.keys(slot).length === 0 ? undefined : JSON.stringify(slot);
}

export function endSpan(span: Span, code: string): void {
  if (code !== 'OK') {
    span.setAttribute(ERROR_CODE, code);
    span.setStatus({ code: 2 /* SpanStatusCode.ERROR */, message: code });
  }
  span.end();
}
