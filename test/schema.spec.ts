import { describe, expect, it } from '@jest/globals';
import { MeshError } from '../lib/core/errors.js';
import {
  ANY_NODE,
  normalizeCommandSpec,
  suggestName,
  validateCommandName,
  validateMeshSchema,
  validateRights,
  validateWorkerSchema,
  type MeshSchema,
} from '../lib/core/schema.js';

/** Runs fn, expects a schema MeshError, and returns its message for further checks. */
function schemaError(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MeshError);
  const err = caught as MeshError;
  expect(err.code).toBe('MESH_SCHEMA_INVALID');
  expect(err.message.startsWith('socket-mesh schema: ')).toBe(true);
  for (const f of fragments) expect(err.message).toContain(f);
  return err.message;
}

const noop = (): void => undefined;

describe('validateWorkerSchema: shape and defaults', () => {
  it('defaults allow and connect to [] and commands to an empty null-prototype object', () => {
    const w = validateWorkerSchema('NodeA', {});
    expect(w).toEqual({ name: 'NodeA', allow: [], connect: [], commands: {} });
    expect(Object.getPrototypeOf(w.commands)).toBeNull();
  });

  it('treats explicitly undefined keys as absent', () => {
    const w = validateWorkerSchema('NodeA', { _allow: undefined, _connect: undefined, _commands: undefined });
    expect(w.allow).toEqual([]);
    expect(w.connect).toEqual([]);
  });

  it('accepts an object with a null prototype', () => {
    const schema = Object.create(null) as Record<string, unknown>;
    schema._connect = ['NodeB'];
    expect(validateWorkerSchema('NodeA', schema).connect).toEqual(['NodeB']);
  });

  it('refuses a non-object worker schema', () => {
    for (const bad of [null, 3, 'x', [], () => 1, new (class Foo {})()]) {
      schemaError(() => validateWorkerSchema('NodeA', bad), "worker 'NodeA'", 'schema must be an object');
    }
  });

  it('refuses an unknown key with a near-miss suggestion', () => {
    const msg = schemaError(() => validateWorkerSchema('NodeB', { _alow: ['NodeA'] }));
    expect(msg).toBe("socket-mesh schema: worker 'NodeB': unknown key '_alow' (did you mean '_allow'?)");
    schemaError(
      () => validateWorkerSchema('NodeB', { connect: [] }),
      "worker 'NodeB'",
      "unknown key 'connect'",
      "(did you mean '_connect'?)",
    );
  });

  it('refuses an unknown key without a suggestion when nothing is close', () => {
    const msg = schemaError(
      () => validateWorkerSchema('NodeB', { somethingElse: 1 }),
      "worker 'NodeB'",
      "unknown key 'somethingElse'",
    );
    expect(msg).not.toContain('did you mean');
  });

  it('refuses bad worker names', () => {
    schemaError(() => validateWorkerSchema('', {}), 'worker names must be non-empty strings');
    schemaError(() => validateWorkerSchema(42 as unknown as string, {}), 'worker names must be non-empty strings', 'number 42');
    schemaError(() => validateWorkerSchema('anyNode', {}), "worker name 'anyNode' is reserved");
    schemaError(() => validateWorkerSchema('constructor', {}), "worker name 'constructor' is reserved");
  });
});

describe('validateWorkerSchema: _allow and _connect', () => {
  it("accepts 'anyNode' as a string and collapses ['anyNode'] to it", () => {
    expect(validateWorkerSchema('NodeA', { _allow: 'anyNode' }).allow).toBe(ANY_NODE);
    expect(validateWorkerSchema('NodeA', { _allow: ['NodeB', 'anyNode'] }).allow).toBe('anyNode');
  });

  it('removes duplicates, keeping first-seen order', () => {
    const w = validateWorkerSchema('NodeA', { _allow: ['NodeC', 'NodeB', 'NodeC'], _connect: ['NodeB', 'NodeB', 'NodeA'] });
    expect(w.allow).toEqual(['NodeC', 'NodeB']);
    expect(w.connect).toEqual(['NodeB', 'NodeA']);
  });

  it('refuses a non-array _allow other than anyNode', () => {
    schemaError(
      () => validateWorkerSchema('NodeA', { _allow: 'NodeB' }),
      "worker 'NodeA'",
      "'_allow' must be an array of worker names or 'anyNode'",
    );
    schemaError(() => validateWorkerSchema('NodeA', { _allow: 'anynode' }), "worker 'NodeA'", "'_allow' must be");
  });

  it('refuses a non-array _connect, including anyNode', () => {
    schemaError(
      () => validateWorkerSchema('NodeA', { _connect: 'anyNode' }),
      "worker 'NodeA'",
      "'_connect' must be an array of worker names",
    );
    schemaError(() => validateWorkerSchema('NodeA', { _connect: { NodeB: true } }), "worker 'NodeA'", "'_connect' must be");
  });

  it('refuses anyNode inside _connect', () => {
    schemaError(
      () => validateWorkerSchema('NodeA', { _connect: ['anyNode'] }),
      "worker 'NodeA'",
      "'_connect' cannot contain 'anyNode'",
    );
  });

  it('refuses empty or non-string entries', () => {
    schemaError(
      () => validateWorkerSchema('NodeA', { _allow: [''] }),
      "worker 'NodeA'",
      "'_allow' entries must be non-empty strings",
    );
    schemaError(
      () => validateWorkerSchema('NodeA', { _connect: ['NodeB', 7] }),
      "worker 'NodeA'",
      "'_connect' entries must be non-empty strings",
      'number 7',
    );
  });
});

describe('validateWorkerSchema: _commands', () => {
  it('normalises plain functions and command objects into specs', () => {
    const status = (): string => 'ok';
    const collect = (): number => 1;
    const w = validateWorkerSchema('NodeB', {
      _commands: {
        _balanced: { status, slow: { method: status, timeout: 500, retries: 2 } },
        _broadcast: {
          collect: { method: collect, responds: true },
          ingest: { method: noop, queued: true, timeout: 1000 },
          ping: noop,
          quiet: { method: noop, responds: false, queued: false },
        },
      },
    });
    expect(Object.getPrototypeOf(w.commands)).toBeNull();
    expect(Object.keys(w.commands)).toEqual(['status', 'slow', 'collect', 'ingest', 'ping', 'quiet']);
    expect(w.commands.status).toEqual({ spec: { kind: 'balanced', responds: false, queued: false }, method: status });
    expect(w.commands.slow!.spec).toEqual({ kind: 'balanced', responds: false, queued: false, timeout: 500, retries: 2 });
    expect(w.commands.collect).toEqual({ spec: { kind: 'broadcast', responds: true, queued: false }, method: collect });
    expect(w.commands.ingest!.spec).toEqual({ kind: 'broadcast', responds: false, queued: true, timeout: 1000 });
    expect(w.commands.ping!.spec).toEqual({ kind: 'broadcast', responds: false, queued: false });
    expect(w.commands.quiet!.spec).toEqual({ kind: 'broadcast', responds: false, queued: false });
    // Optional fields are omitted, not present as undefined.
    expect(Object.keys(w.commands.status!.spec)).toEqual(['kind', 'responds', 'queued']);
  });

  it('accepts empty or missing groups', () => {
    expect(validateWorkerSchema('NodeB', { _commands: {} }).commands).toEqual({});
    expect(validateWorkerSchema('NodeB', { _commands: { _balanced: {} } }).commands).toEqual({});
  });

  it('refuses a non-object _commands', () => {
    schemaError(() => validateWorkerSchema('NodeB', { _commands: [] }), "worker 'NodeB'", "'_commands' must be an object");
  });

  it('refuses an unknown key in _commands with a suggestion', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balance: {} } }),
      "worker 'NodeB': _commands: unknown key '_balance' (did you mean '_balanced'?)",
    );
  });

  it('refuses a non-object group', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: noop } }),
      "worker 'NodeB'",
      "'_commands._broadcast' must be an object of commands",
    );
  });

  it('refuses a command that is neither function nor command object', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: 'nope' } } }),
      "worker 'NodeB': command 'status': must be a function or { method, responds?, queued? }",
    );
    schemaError(() => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: null } } }), "command 'status'");
  });

  it('refuses a command object without a function method', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { collect: { responds: true } } } }),
      "worker 'NodeB': command 'collect': 'method' must be a function",
    );
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { collect: { method: 'x' } } } }),
      "command 'collect'",
      "'method' must be a function",
    );
  });

  it('refuses an unknown key in a command object with a suggestion', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { collect: { method: noop, respond: true } } } }),
      "worker 'NodeB': command 'collect': unknown key 'respond' (did you mean 'responds'?)",
    );
    // `name` is a decorator option, not a schema key.
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, name: 'x' } } } }),
      "command 'status'",
      "unknown key 'name'",
    );
  });

  it('refuses non-boolean responds / queued', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { collect: { method: noop, responds: 'yes' } } } }),
      "worker 'NodeB': command 'collect': 'responds' must be a boolean",
    );
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { ingest: { method: noop, queued: 1 } } } }),
      "command 'ingest'",
      "'queued' must be a boolean",
    );
  });

  it('refuses responds and queued together', () => {
    schemaError(
      () =>
        validateWorkerSchema('NodeB', { _commands: { _broadcast: { both: { method: noop, responds: true, queued: true } } } }),
      "worker 'NodeB': command 'both': a command cannot be both responds and queued",
    );
  });

  it('refuses responds / queued on a balanced command', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, responds: true } } } }),
      "worker 'NodeB': command 'status': 'responds' applies to broadcast commands only",
    );
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, queued: false } } } }),
      "command 'status'",
      "'queued' applies to broadcast commands only",
    );
  });

  it('refuses retries on a broadcast command and bad retries on a balanced one', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _broadcast: { collect: { method: noop, retries: 1 } } } }),
      "worker 'NodeB': command 'collect': 'retries' applies to balanced commands only",
    );
    for (const bad of [-1, 1.5, '2', Number.NaN]) {
      schemaError(
        () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, retries: bad } } } }),
        "command 'status'",
        "'retries' must be a non-negative integer",
      );
    }
    expect(
      validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, retries: 0 } } } }).commands.status!.spec
        .retries,
    ).toBe(0);
  });

  it('refuses a timeout that is not a positive finite number', () => {
    for (const bad of [0, -5, Number.POSITIVE_INFINITY, Number.NaN, '100']) {
      schemaError(
        () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: { method: noop, timeout: bad } } } }),
        "worker 'NodeB': command 'status'",
        "'timeout' must be a positive finite number",
      );
    }
  });

  it('refuses a name declared both balanced and broadcast', () => {
    schemaError(
      () => validateWorkerSchema('NodeB', { _commands: { _balanced: { status: noop }, _broadcast: { status: noop } } }),
      "worker 'NodeB': command 'status': declared in both _balanced and _broadcast",
    );
  });

  it('refuses every Object.prototype name and then as a command name', () => {
    for (const name of [...Object.getOwnPropertyNames(Object.prototype), 'then']) {
      const group = Object.create(null) as Record<string, unknown>;
      group[name] = noop;
      schemaError(
        () => validateWorkerSchema('NodeB', { _commands: { _balanced: group } }),
        "worker 'NodeB'",
        `command name '${name}' is reserved`,
      );
    }
  });
});

describe('JSON-parsed schemas with __proto__', () => {
  it('treats a __proto__ key in a worker schema as an unknown key and pollutes nothing', () => {
    const parsed: unknown = JSON.parse('{"NodeA": {"__proto__": {"_allow": "anyNode", "polluted": true}}}');
    schemaError(() => validateMeshSchema(parsed), "worker 'NodeA'", "unknown key '__proto__'");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('refuses __proto__ as a command name', () => {
    const parsed: unknown = JSON.parse('{"NodeA": {"_commands": {"_balanced": {"__proto__": {"method": 1}}}}}');
    schemaError(() => validateMeshSchema(parsed), "worker 'NodeA'", "command name '__proto__' is reserved");
  });

  it('refuses __proto__ as a worker name', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"_allow": "anyNode"}, "NodeA": {}}');
    schemaError(() => validateMeshSchema(parsed), "worker name '__proto__' is reserved");
    expect(({} as Record<string, unknown>)._allow).toBeUndefined();
  });

  it('does not read inherited properties of a worker schema', () => {
    const inherited = Object.create({ _allow: ['NodeB'] }) as Record<string, unknown>;
    // Not plain (its prototype is not Object.prototype or null), so refused rather than half-read.
    schemaError(() => validateWorkerSchema('NodeA', inherited), "worker 'NodeA'", 'schema must be an object');
  });
});

describe('normalizeCommandSpec (the decorator path)', () => {
  it('builds specs and accepts name', () => {
    expect(normalizeCommandSpec('NodeB', 'status', 'balanced', {})).toEqual({ kind: 'balanced', responds: false, queued: false });
    expect(normalizeCommandSpec('NodeB', 'status', 'balanced', { name: 'status', timeout: 20 })).toEqual({
      kind: 'balanced',
      responds: false,
      queued: false,
      timeout: 20,
    });
    expect(normalizeCommandSpec('NodeB', 'collect', 'broadcast', { responds: true, queued: undefined })).toEqual({
      kind: 'broadcast',
      responds: true,
      queued: false,
    });
    expect(normalizeCommandSpec('NodeB', 'x', 'balanced', undefined as unknown as object)).toEqual({
      kind: 'balanced',
      responds: false,
      queued: false,
    });
  });

  it('refuses unknown options, bad name, bad kind and reserved command names', () => {
    schemaError(
      () => normalizeCommandSpec('NodeB', 'collect', 'broadcast', { respond: true } as object),
      "worker 'NodeB': command 'collect': unknown key 'respond' (did you mean 'responds'?)",
    );
    schemaError(
      () => normalizeCommandSpec('NodeB', 'collect', 'broadcast', { name: '' }),
      "command 'collect'",
      "'name' must be a non-empty string",
    );
    schemaError(
      () => normalizeCommandSpec('NodeB', 'collect', 'other' as 'broadcast', {}),
      "command 'collect'",
      "unknown command kind 'other'",
    );
    schemaError(
      () => normalizeCommandSpec('NodeB', 'constructor', 'balanced', {}),
      "worker 'NodeB'",
      "command name 'constructor' is reserved",
    );
    schemaError(
      () => normalizeCommandSpec('NodeB', 'collect', 'broadcast', { responds: true, queued: true }),
      'cannot be both responds and queued',
    );
  });
});

describe('validateCommandName', () => {
  it('accepts ordinary names and refuses empty, non-string and reserved ones', () => {
    expect(() => validateCommandName('NodeB', 'status')).not.toThrow();
    expect(() => validateCommandName('NodeB', 'Constructor')).not.toThrow();
    schemaError(() => validateCommandName('NodeB', ''), "worker 'NodeB'", 'command names must be non-empty strings');
    schemaError(
      () => validateCommandName('NodeB', 5 as unknown as string),
      "worker 'NodeB'",
      'command names must be non-empty strings',
    );
    schemaError(() => validateCommandName('NodeB', 'then'), "worker 'NodeB'", "command name 'then' is reserved");
    schemaError(() => validateCommandName('NodeB', 'hasOwnProperty'), "command name 'hasOwnProperty' is reserved");
  });
});

describe('validateRights (the Nest path)', () => {
  it('normalises and defaults', () => {
    expect(validateRights('NodeB', {})).toEqual({ allow: [], connect: [] });
    expect(validateRights('NodeB', { allow: 'anyNode', connect: ['NodeA', 'NodeA'] })).toEqual({
      allow: 'anyNode',
      connect: ['NodeA'],
    });
  });

  it('names the option without the underscore', () => {
    schemaError(
      () => validateRights('NodeB', { allow: 'NodeA' }),
      "worker 'NodeB'",
      "'allow' must be an array of worker names or 'anyNode'",
    );
    schemaError(
      () => validateRights('NodeB', { connect: [''] }),
      "worker 'NodeB'",
      "'connect' entries must be non-empty strings",
    );
    schemaError(() => validateRights('NodeB', null as unknown as object), "worker 'NodeB'", 'rights must be an object');
  });
});

describe('validateMeshSchema', () => {
  const schema: MeshSchema = {
    NodeA: { _allow: ['NodeB'], _connect: ['NodeB'], _commands: { _balanced: { status: noop } } },
    NodeB: { _allow: 'anyNode', _connect: ['NodeA'], _commands: { _broadcast: { collect: { method: noop, responds: true } } } },
  };

  it('returns every worker normalised, keyed by name', () => {
    const workers = validateMeshSchema(schema);
    expect([...workers.keys()]).toEqual(['NodeA', 'NodeB']);
    expect(workers.get('NodeA')!.connect).toEqual(['NodeB']);
    expect(workers.get('NodeB')!.allow).toBe('anyNode');
    expect(workers.get('NodeB')!.commands.collect!.spec).toEqual({ kind: 'broadcast', responds: true, queued: false });
    expect(validateMeshSchema({}).size).toBe(0);
  });

  it('refuses a schema that is not a plain object', () => {
    for (const bad of [null, undefined, [], 'x', new Map()]) {
      schemaError(() => validateMeshSchema(bad), 'the schema must be a plain object of workers');
    }
  });

  it('refuses an empty worker name', () => {
    schemaError(() => validateMeshSchema({ '': {} }), 'worker names must be non-empty strings');
  });

  it('reports the first bad worker by name', () => {
    schemaError(
      () => validateMeshSchema({ NodeA: {}, NodeB: { _alow: [] } }),
      "worker 'NodeB': unknown key '_alow' (did you mean '_allow'?)",
    );
  });

  it('refuses an undefined worker in _connect with a case-insensitive suggestion', () => {
    const msg = schemaError(() => validateMeshSchema({ NodeA: { _connect: ['nodeB'] }, NodeB: {} }));
    expect(msg).toBe(
      "socket-mesh schema: worker 'NodeA': '_connect' names 'nodeB', which the schema does not define (did you mean 'NodeB'?)",
    );
  });

  it('refuses an undefined worker in _allow with an edit-distance suggestion', () => {
    schemaError(
      () => validateMeshSchema({ NodeA: { _allow: ['NodB'] }, NodeB: {} }),
      "worker 'NodeA': '_allow' names 'NodB', which the schema does not define (did you mean 'NodeB'?)",
    );
  });

  it('gives no suggestion when nothing is close', () => {
    const msg = schemaError(
      () => validateMeshSchema({ NodeA: { _connect: ['Billing'] } }),
      "worker 'NodeA'",
      "'_connect' names 'Billing'",
    );
    expect(msg).not.toContain('did you mean');
  });

  it('lets a worker name itself', () => {
    expect(validateMeshSchema({ NodeA: { _allow: ['NodeA'], _connect: ['NodeA'] } }).get('NodeA')!.connect).toEqual(['NodeA']);
  });
});

describe('suggestName', () => {
  it('prefers a case-insensitive match', () => {
    expect(suggestName('nodeB', ['NodeA', 'NodeB'])).toBe('NodeB');
    expect(suggestName('NODEA', ['NodeB', 'NodeA'])).toBe('NodeA');
  });

  it('falls back to the closest within two edits, first on ties', () => {
    expect(suggestName('_alow', ['_allow', '_connect', '_commands'])).toBe('_allow');
    expect(suggestName('Billng', ['Billing', 'Shipping'])).toBe('Billing');
    expect(suggestName('NodeC', ['NodeA', 'NodeB'])).toBe('NodeA');
    expect(suggestName('Blling', ['Bxxlling', 'Billing'])).toBe('Billing');
  });

  it('returns undefined beyond two edits', () => {
    expect(suggestName('Accounts', ['NodeA', 'NodeB'])).toBeUndefined();
    expect(suggestName('x', [])).toBeUndefined();
  });

  it('never suggests the name itself, nor another name when the name is itself a candidate', () => {
    expect(suggestName('NodeA', ['NodeA'])).toBeUndefined();
    expect(suggestName('NodeA', new Set(['NodeA', 'NodeB']))).toBeUndefined();
    expect(suggestName('NodeC', new Set(['NodeA', 'NodeB']))).toBe('NodeA');
  });
});
