import type { CallContext } from './call-metadata.js';

/** How a command is dispatched; decided by the worker that declares it. */
export type CommandKind = 'balanced' | 'broadcast';

/**
 * A command as the mesh knows it: what a worker advertises to the manager and the manager
 * passes on to callers. Plain data, safe to send over the wire.
 */
export interface CommandSpec {
  kind: CommandKind;
  /** Broadcast only: gather every instance's answer. */
  responds: boolean;
  /** Broadcast only: each instance queues the request and runs its queue one at a time. */
  queued: boolean;
  /** Default timeout for calls of this command (ms); the caller's `timeout` option wins. */
  timeout?: number;
  /** Balanced only: default retry count on MESH_PEER_DISCONNECTED / MESH_NO_PEER. */
  retries?: number;
}

/** command name -> spec. Built on a null prototype so names like `constructor` never hit Object.prototype. */
export type CommandTable = Record<string, CommandSpec>;

/** What runs a command locally: gets the payload itself, returns the value itself. Queued commands get no context. */
export type CommandHandler = (payload: unknown, context?: CallContext) => unknown;

/** A locally runnable command: its spec plus the function that answers it. */
export interface LocalCommand extends CommandSpec {
  name: string;
  handler: CommandHandler;
}

/** An own-property lookup that never falls through to the prototype chain. */
export function lookupOwn<T>(table: Record<string, T> | Map<string, T>, key: string): T | undefined {
  if (table instanceof Map) return table.get(key);
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** What a worker tells the manager about its commands: each one's spec, without its handler. */
export function commandTableOf(commands: readonly LocalCommand[]): CommandTable {
  const table = Object.create(null) as CommandTable;
  for (const c of commands) {
    const spec: CommandSpec = { kind: c.kind, responds: c.responds, queued: c.queued };
    if (c.timeout !== undefined) spec.timeout = c.timeout;
    if (c.retries !== undefined) spec.retries = c.retries;
    table[c.name] = spec;
  }
  return table;
}
