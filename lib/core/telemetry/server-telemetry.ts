import type { Context, Link, Span } from '@opentelemetry/api';
import { endSpan } from './client-telemetry.js';
import { outcomeCode, rpcAttributes, spanAttributes } from './rpc-attributes.js';
import { telemetry } from './telemetry-state.js';
import { readTraceSlot, type JobTrace, type TraceSlot } from './trace-slot.js';

/** One request a callee runs (SERVER span) or stores in its queue (PRODUCER span). */
export interface ObservedRequest {
  /** Runs the handler (or the queue's add) inside the span's context. */
  within<T>(work: () => T): T;
  /** Ends the span and records the duration: `failure` given means it failed. */
  end(failed: boolean, failure?: unknown): void;
  /** For a queued request: what the job keeps for its CONSUMER span and its wait time. */
  job?: JobTrace;
}

/** Undefined when telemetry is off: the dispatcher then runs the request as it always did. */
export function observeRequest(
  worker: string,
  command: string,
  caller: { worker: string; variant: string },
  rawSlot: unknown,
  queued: boolean,
): ObservedRequest | undefined {
  const { otel, tracer, instruments } = telemetry;
  if (!otel || (!tracer && !instruments)) return undefined;
  const started = performance.now();
  const series = instruments?.server.get(worker, command);
  if (series) series.inFlight++;
  let span: Span | undefined;
  let context: Context | undefined;
  const observed: ObservedRequest = {
    within: (work) => (context ? otel.context.with(context, work) : work()),
    end(failed, failure) {
      const code = failed ? outcomeCode(failure) : 'OK';
      if (series) {
        series.inFlight--;
        instruments!.serverDuration.record(performance.now() - started, series.outcome(code));
      }
      if (span) endSpan(span, code);
    },
  };
  if (tracer) {
    const parent = extract(rawSlot);
    const kind = queued ? otel.SpanKind.PRODUCER : otel.SpanKind.SERVER;
    span = tracer.startSpan(`${worker}/${command}`, { kind, attributes: spanAttributes(worker, command, caller) }, parent);
    context = otel.trace.setSpan(parent, span);
  }
  if (queued) {
    observed.job = { at: Date.now() };
    if (context) {
      const slot: TraceSlot = {};
      otel.propagation.inject(context, slot);
      observed.job.slot = slot;
    }
  }
  return observed;
}

/** A queue's handler with a CONSUMER span (child of, and linked to, the PRODUCER span) and the wait time. */
export function observeQueued<H extends (payload: unknown, job?: JobTrace) => unknown>(
  worker: string,
  command: string,
  handler: H,
): H {
  const { otel, tracer, instruments } = telemetry;
  if (!otel || (!tracer && !instruments)) return handler;
  const base = rpcAttributes(worker, command);
  return ((payload: unknown, job?: JobTrace) => {
    if (instruments && job) instruments.queueWait.record(Math.max(0, Date.now() - job.at), base);
    if (!tracer) return handler(payload, job);
    const parent = extract(job?.slot);
    const producer = otel.trace.getSpanContext(parent);
    const links: Link[] = producer ? [{ context: producer }] : [];
    const span = tracer.startSpan(`${worker}/${command}`, { kind: otel.SpanKind.CONSUMER, attributes: base, links }, parent);
    let result: unknown;
    try {
      result = otel.context.with(otel.trace.setSpan(parent, span), () => handler(payload, job));
    } catch (err) {
      endSpan(span, outcomeCode(err));
      throw err;
    }
    return Promise.resolve(result).then(
      (value) => {
        endSpan(span, 'OK');
        return value;
      },
      (err: unknown) => {
        endSpan(span, outcomeCode(err));
        throw err;
      },
    );
  }) as H;
}

function extract(rawSlot: unknown): Context {
  const otel = telemetry.otel!;
  const slot = readTraceSlot(rawSlot);
  return slot ? otel.propagation.extract(otel.ROOT_CONTEXT, slot) : otel.ROOT_CONTEXT;
}
