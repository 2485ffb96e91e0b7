import type { CommandKind, CommandSpec } from './command-spec.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { forLog, isMeshName, MESH_NAME_RULE } from './mesh-name.js';
import { describeName as show, didYouMean as hint, suggestName } from './names.js';

/** Names in one allow or connect list, at most: a registration comes from the network. */
export const MAX_NAMES_IN_LIST = 1024;

// Kept exported here for importers written before the name helpers moved to names.ts.
export { suggestName };

/** The `_allow` value that admits every worker name. */
export const ANY_NODE = 'anyNode';

export type {
  CommandOptionsInput,
  MeshSchema,
  NormalizedWorker,
  SchemaCommand,
  SchemaCommandFunction,
  SchemaCommandObject,
  WorkerSchema,
} from './schema-types.js';
import type { CommandOptionsInput, NormalizedWorker, SchemaCommandFunction } from './schema-types.js';

const WORKER_KEYS = ['_allow', '_connect', '_commands'] as const;
const COMMANDS_KEYS = ['_balanced', '_broadcast'] as const;
const COMMAND_OBJECT_KEYS = ['method', 'responds', 'queued', 'timeout', 'retries'] as const;
const COMMAND_OPTION_KEYS = ['responds', 'queued', 'timeout', 'retries', 'name'] as const;

// Names a lookup on an ordinary object would find without anyone declaring them, plus `then`,
// which would make a command proxy look like a Promise to `await`.
const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'then']);

function fail(message: string): never {
  throw new MeshError(MeshErrorCode.SCHEMA_INVALID, `socket-mesh schema: ${message}`);
}

// Realm-independent (objects from vm contexts or JSON.parse elsewhere still pass) and refuses
// class instances, whose data may live behind prototype getters we deliberately do not read.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Own enumerable entries only: an own `__proto__` key from JSON.parse is just a key here. */
function ownEntries(obj: Record<string, unknown>): [string, unknown][] {
  return Object.keys(obj).map((key) => [key, obj[key]]);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${where}: unknown key '${key}'${hint(key, allowed)}`);
  }
}

function workerLabel(worker: unknown): string {
  return `worker ${show(worker)}`;
}

function checkWorkerName(worker: unknown): asserts worker is string {
  if (typeof worker !== 'string' || worker.length === 0) {
    fail(`worker names must be non-empty strings, got ${show(worker)}`);
  }
  if (!isMeshName(worker)) fail(`worker name ${forLog(worker, 64)} is not a name (${MESH_NAME_RULE})`);
  // A worker called 'anyNode' could never be told apart from the wildcard in `_allow`, and the
  // plain API reaches workers as properties (`node.call.NodeB`), so prototype names are out too.
  if (worker === ANY_NODE || RESERVED_NAMES.has(worker)) {
    fail(`worker name '${worker}' is reserved`);
  }
}

export function validateCommandName(worker: string, command: string): void {
  const where = workerLabel(worker);
  if (typeof command !== 'string' || command.length === 0) {
    fail(`${where}: command names must be non-empty strings, got ${show(command)}`);
  }
  if (RESERVED_NAMES.has(command)) {
    fail(`${where}: command name '${command}' is reserved (it is a property of every object or of a Promise)`);
  }
}

/**
 * Builds a command's wire spec from schema-object or decorator options. `undefined` counts as
 * absent so callers can pass optional settings straight through.
 */
export function normalizeCommandSpec(
  worker: string,
  command: string,
  kind: CommandKind,
  options: CommandOptionsInput,
): CommandSpec {
  validateCommandName(worker, command);
  const where = `${workerLabel(worker)}: command '${command}'`;
  if (kind !== 'balanced' && kind !== 'broadcast') fail(`${where}: unknown command kind ${show(kind)}`);
  // `@Balanced()` hands us no options at all.
  const opt: unknown = options === undefined ? {} : options;
  if (!isPlainObject(opt)) fail(`${where}: options must be an object, got ${show(opt)}`);
  checkKeys(opt, COMMAND_OPTION_KEYS, where);
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(opt, key) ? opt[key] : undefined);
  const responds = own('responds');
  const queued = own('queued');
  const timeout = own('timeout');
  const retries = own('retries');
  const name = own('name');

  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    fail(`${where}: 'name' must be a non-empty string, got ${show(name)}`);
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    fail(`${where}: 'timeout' must be a positive finite number of milliseconds, got ${show(timeout)}`);
  }

  if (kind === 'balanced') {
    if (responds !== undefined) fail(`${where}: 'responds' applies to broadcast commands only (balanced commands always answer)`);
    if (queued !== undefined) fail(`${where}: 'queued' applies to broadcast commands only`);
    if (retries !== undefined && (typeof retries !== 'number' || !Number.isSafeInteger(retries) || retries < 0)) {
      fail(`${where}: 'retries' must be a non-negative integer, got ${show(retries)}`);
    }
    const spec: CommandSpec = { kind: 'balanced', responds: false, queued: false };
    if (timeout !== undefined) spec.timeout = timeout as number;
    if (retries !== undefined) spec.retries = retries as number;
    return spec;
  }

  if (responds !== undefined && typeof responds !== 'boolean') {
    fail(`${where}: 'responds' must be a boolean, got ${show(responds)}`);
  }
  if (queued !== undefined && typeof queued !== 'boolean') {
    fail(`${where}: 'queued' must be a boolean, got ${show(queued)}`);
  }
  if (responds === true && queued === true) fail(`${where}: a command cannot be both responds and queued`);
  if (retries !== undefined) fail(`${where}: 'retries' applies to balanced commands only`);
  const spec: CommandSpec = { kind: 'broadcast', responds: responds === true, queued: queued === true };
  if (timeout !== undefined) spec.timeout = timeout as number;
  return spec;
}

function nameList(where: string, key: string, value: unknown, allowAny: boolean): string[] | 'anyNode' {
  if (value === undefined) return [];
  if (value === ANY_NODE && allowAny) return ANY_NODE;
  if (!Array.isArray(value)) {
    const expected = allowAny ? `an array of worker names or '${ANY_NODE}'` : 'an array of worker names';
    fail(`${where}: '${key}' must be ${expected}, got ${show(value)}`);
  }
  if ((value as unknown[]).length > MAX_NAMES_IN_LIST) {
    fail(`${where}: '${key}' lists ${(value as unknown[]).length} names, more than ${MAX_NAMES_IN_LIST}`);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'string' || entry.length === 0) {
      fail(`${where}: '${key}' entries must be non-empty strings, got ${show(entry)}`);
    }
    if (entry === ANY_NODE) {
      // ['anyNode'] reads as the wildcard; collapsing it keeps one representation downstream.
      if (allowAny) return ANY_NODE;
      fail(`${where}: '${key}' cannot contain '${ANY_NODE}' (it is only meaningful in allow)`);
    }
    if (!isMeshName(entry)) fail(`${where}: '${key}' entry ${forLog(entry, 64)} is not a name (${MESH_NAME_RULE})`);
    if (!seen.has(entry)) {
      seen.add(entry);
      out.push(entry);
    }
  }
  return out;
}

function rights(
  worker: string,
  value: { allow?: unknown; connect?: unknown },
  keys: { allow: string; connect: string },
): { allow: string[] | 'anyNode'; connect: string[] } {
  const where = workerLabel(worker);
  const allow = nameList(where, keys.allow, value.allow, true);
  const connect = nameList(where, keys.connect, value.connect, false) as string[];
  return { allow, connect };
}

/** Checks and normalises `allow` / `connect` as given to a Nest worker (message keys without `_`). */
export function validateRights(
  worker: string,
  rightsInput: { allow?: unknown; connect?: unknown },
): { allow: string[] | 'anyNode'; connect: string[] } {
  checkWorkerName(worker);
  if (typeof rightsInput !== 'object' || rightsInput === null) {
    fail(`${workerLabel(worker)}: rights must be an object, got ${show(rightsInput)}`);
  }
  const own = (key: string): unknown =>
    Object.prototype.hasOwnProperty.call(rightsInput, key) ? (rightsInput as Record<string, unknown>)[key] : undefined;
  return rights(worker, { allow: own('allow'), connect: own('connect') }, { allow: 'allow', connect: 'connect' });
}

function commandGroup(
  worker: string,
  kind: CommandKind,
  key: string,
  group: unknown,
  into: NormalizedWorker['commands'],
  methodsOptional: boolean,
): void {
  const where = workerLabel(worker);
  if (group === undefined) return;
  if (!isPlainObject(group)) fail(`${where}: '_commands.${key}' must be an object of commands, got ${show(group)}`);
  for (const [command, value] of ownEntries(group)) {
    validateCommandName(worker, command);
    const cmdWhere = `${where}: command '${command}'`;
    if (Object.prototype.hasOwnProperty.call(into, command)) {
      fail(`${cmdWhere}: declared in both _balanced and _broadcast`);
    }
    let method: unknown;
    let options: CommandOptionsInput;
    if (value === null) {
      if (!methodsOptional) {
        fail(
          `${cmdWhere}: is null, but this process runs '${worker}' and needs its method (only other workers' commands may be null)`,
        );
      }
      method = null;
      options = {};
    } else if (typeof value === 'function') {
      method = value;
      options = {};
    } else if (isPlainObject(value)) {
      checkKeys(value, COMMAND_OBJECT_KEYS, cmdWhere);
      const own = (k: string): unknown => (Object.prototype.hasOwnProperty.call(value, k) ? value[k] : undefined);
      method = own('method');
      if (typeof method !== 'function') fail(`${cmdWhere}: 'method' must be a function, got ${show(method)}`);
      options = { responds: own('responds'), queued: own('queued'), timeout: own('timeout'), retries: own('retries') };
      for (const k of Object.keys(options) as (keyof CommandOptionsInput)[]) {
        if (options[k] === undefined) delete options[k];
      }
    } else {
      fail(`${cmdWhere}: must be a function or { method, responds?, queued? }, got ${show(value)}`);
    }
    const spec = normalizeCommandSpec(worker, command, kind, options);
    into[command] = { spec, method: method as SchemaCommandFunction | null };
  }
}

/**
 * Checks one worker's part of the seed schema; does not know which other workers exist.
 * `methodsOptional`: its commands may be `null` (implemented in another process).
 */
export function validateWorkerSchema(worker: string, schema: unknown, methodsOptional = false): NormalizedWorker {
  checkWorkerName(worker);
  const where = workerLabel(worker);
  if (!isPlainObject(schema)) fail(`${where}: schema must be an object, got ${show(schema)}`);
  checkKeys(schema, WORKER_KEYS, where);
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined);
  const { allow, connect } = rights(
    worker,
    { allow: own('_allow'), connect: own('_connect') },
    { allow: '_allow', connect: '_connect' },
  );

  const commands: NormalizedWorker['commands'] = Object.create(null) as NormalizedWorker['commands'];
  const cmds = own('_commands');
  if (cmds !== undefined) {
    if (!isPlainObject(cmds)) fail(`${where}: '_commands' must be an object, got ${show(cmds)}`);
    checkKeys(cmds, COMMANDS_KEYS, `${where}: _commands`);
    const group = (key: string): unknown => (Object.prototype.hasOwnProperty.call(cmds, key) ? cmds[key] : undefined);
    commandGroup(worker, 'balanced', '_balanced', group('_balanced'), commands, methodsOptional);
    commandGroup(worker, 'broadcast', '_broadcast', group('_broadcast'), commands, methodsOptional);
  }
  return { name: worker, allow, connect, commands };
}

/** Which workers' methods this process runs, and so which commands must be functions. */
export interface MeshSchemaCheck {
  /**
   * This process's worker: its commands must be functions, the other workers' may be `null`.
   * `null`: it runs none (the manager). Absent: every command must be a function.
   */
  runs?: string | null;
}

/** Checks the whole seed schema, including that every name in `_allow`/`_connect` is defined. */
export function validateMeshSchema(schema: unknown, check: MeshSchemaCheck = {}): Map<string, NormalizedWorker> {
  if (!isPlainObject(schema)) fail(`the schema must be a plain object of workers, got ${show(schema)}`);
  const workers = new Map<string, NormalizedWorker>();
  for (const [name, part] of ownEntries(schema)) {
    workers.set(name, validateWorkerSchema(name, part, check.runs !== undefined && check.runs !== name));
  }
  const defined = [...workers.keys()];
  for (const worker of workers.values()) {
    const refs: [string, readonly string[]][] = [['_connect', worker.connect]];
    if (worker.allow !== ANY_NODE) refs.unshift(['_allow', worker.allow]);
    for (const [key, names] of refs) {
      for (const ref of names) {
        if (!workers.has(ref)) {
          fail(`worker '${worker.name}': '${key}' names '${ref}', which the schema does not define${hint(ref, defined)}`);
        }
      }
    }
  }
  return workers;
}
