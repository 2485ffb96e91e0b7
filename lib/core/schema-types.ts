import type { CommandSpec } from './command-spec.js';
import type { MeshCallContext } from './handler-context.js';

/** The seed's schema object format (DESIGN §1) and its normalised form. */

// `any` on the payload only: users write `({ test }) => ...` without annotating the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SchemaCommandFunction = (this: unknown, payload: any, context: MeshCallContext) => unknown;

export interface SchemaCommandObject {
  method: SchemaCommandFunction;
  responds?: boolean;
  queued?: boolean;
  timeout?: number;
  retries?: number;
}

/**
 * `null`: declared, implemented in another process. A process fills in only its own worker's
 * methods and may leave the other workers' commands `null` (their names still tell callers what exists).
 */
export type SchemaCommand = SchemaCommandFunction | SchemaCommandObject | null;

export interface WorkerSchema {
  _allow?: readonly string[] | 'anyNode';
  _connect?: readonly string[];
  _commands?: { _balanced?: Record<string, SchemaCommand>; _broadcast?: Record<string, SchemaCommand> };
}

export type MeshSchema = Record<string, WorkerSchema>;

/** One worker's part, normalised. */
export interface NormalizedWorker {
  name: string;
  allow: string[] | 'anyNode';
  connect: string[];
  /** null-prototype object: command name -> spec + the user's function (unbound); `null` when implemented elsewhere */
  commands: Record<string, { spec: CommandSpec; method: SchemaCommandFunction | null }>;
}

/** Options as they reach us from a schema command object or a Nest decorator; checked at run time. */
export interface CommandOptionsInput {
  responds?: unknown;
  queued?: unknown;
  timeout?: unknown;
  retries?: unknown;
  name?: unknown;
}
