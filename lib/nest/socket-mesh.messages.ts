/** User-facing texts of the Nest layer; tests match on these. */

/** Prefix of every start-up error of a worker: says which worker and where it was configured. */
export function workerLabel(worker: string): string {
  return `SocketMeshModule.forWorker('${worker}')`;
}

export const MANAGER_LABEL = 'SocketMeshModule.forManager()';

// The option messages are the core's (lib/core/options/option-reader.ts), shared with the plain API.

export function duplicateCommandMessage(worker: string, command: string, first: string, second: string): string {
  return `socket-mesh: worker '${worker}': command '${command}' is declared twice, by ${first} and by ${second}; rename one with the decorator's 'name' option`;
}

export function bothKindsMessage(worker: string, handler: string): string {
  return `socket-mesh: worker '${worker}': ${handler} has both @Balanced() and @Broadcast(); a command has one kind`;
}

export function unknownEventMessage(handler: string, event: unknown, events: readonly string[]): string {
  return `socket-mesh: @OnMeshEvent(${JSON.stringify(event)}) on ${handler}: the event must be one of ${events.map((e) => `'${e}'`).join(', ')}`;
}

export function asyncOptionsMessage(where: string): string {
  return `socket-mesh: ${where}: give exactly one of useFactory, useClass or useExisting`;
}
