/** User-facing texts of the Nest layer; tests match on these. */

/** Prefix of every start-up error of a worker: says which worker and where it was configured. */
export function workerLabel(worker: string): string {
  return `SocketMeshModule.forWorker('${worker}')`;
}

export const MANAGER_LABEL = 'SocketMeshModule.forManager()';

export function invalidOptionMessage(where: string, field: string, expected: string, got: string): string {
  return `socket-mesh: ${where}: option '${field}' must be ${expected}, got ${got}`;
}

export function missingOptionMessage(where: string, field: string, expected: string): string {
  return `socket-mesh: ${where}: option '${field}' is required (${expected})`;
}

export function unknownOptionMessage(where: string, field: string, suggestion: string | undefined): string {
  return `socket-mesh: ${where}: unknown option '${field}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`;
}

export function duplicateCommandMessage(worker: string, command: string, first: string, second: string): string {
  return `socket-mesh: worker '${worker}': command '${command}' is declared twice, by ${first} and by ${second}; rename one with the decorator's 'name' option`;
}

export function bothKindsMessage(worker: string, handler: string): string {
  return `socket-mesh: worker '${worker}': ${handler} has both @Balanced() and @Broadcast(); a command has one kind`;
}

export function unknownEventMessage(handler: string, event: unknown, events: readonly string[]): string {
  return `socket-mesh: @OnMeshEvent(${JSON.stringify(event)}) on ${handler}: the event must be one of ${events.map((e) => `'${e}'`).join(', ')}`;
}

export function scopedProviderMessage(provider: string): string {
  return `${provider} is request-scoped or transient: its @Balanced/@Broadcast/@OnMeshEvent methods are ignored (mesh handlers need a singleton provider)`;
}

export function asyncOptionsMessage(where: string): string {
  return `socket-mesh: ${where}: give exactly one of useFactory, useClass or useExisting`;
}

/** Describes a value for a message without coercing it (no `[object Object]`, no secrets). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a string`;
  if (typeof value === 'number') return `${value}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return `${typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`}`;
}
