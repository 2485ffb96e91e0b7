import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, as loaded at run time (its types only are imported statically). */
export type Otel = typeof OtelApi;

let loading: Promise<Otel | undefined> | undefined;

/**
 * Loads `@opentelemetry/api` once per process; undefined when it is not installed. Dynamic on
 * purpose: an app without OpenTelemetry loads nothing of it, and the core never imports it
 * statically, so the package stays an optional peer dependency.
 */
export function loadOtel(): Promise<Otel | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return loading;
}
