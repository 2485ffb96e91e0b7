import { describe, expect, it } from '@jest/globals';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { parseRegistration } from '../../lib/core/manager/registration.js';

const base = { worker: 'NodeB', variant: 'b1', host: null, port: 4000, allow: ['NodeA'], connect: [] };
const withCommand = (spec: unknown) => ({ ...base, commands: { ping: spec } });

function refusal(input: unknown): MeshError {
  try {
    parseRegistration(input);
  } catch (err) {
    return err as MeshError;
  }
  throw new Error('expected the registration to be refused');
}

describe('parseRegistration', () => {
  it('takes the command specs workers send (responds/queued false on balanced ones)', () => {
    const r = parseRegistration({
      ...base,
      commands: {
        ping: { kind: 'balanced', responds: false, queued: false, timeout: 500, retries: 2 },
        notify: { kind: 'broadcast', responds: false, queued: true },
        gather: { kind: 'broadcast', responds: true, queued: false },
      },
    });
    expect({ ...r.commands }).toEqual({
      ping: { kind: 'balanced', responds: false, queued: false, timeout: 500, retries: 2 },
      notify: { kind: 'broadcast', responds: false, queued: true },
      gather: { kind: 'broadcast', responds: true, queued: false },
    });
    expect(Object.getPrototypeOf(r.commands)).toBeNull();
  });

  it('refuses a broadcast that is both responds and queued, as the schema does', () => {
    const err = refusal(withCommand({ kind: 'broadcast', responds: true, queued: true }));
    expect(err).toBeInstanceOf(MeshError);
    expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(err.message).toMatch(/invalid registration: .*ping.*both responds and queued/);
  });

  it('refuses a bad timeout instead of dropping it', () => {
    for (const timeout of [0, -5, 'soon', Number.POSITIVE_INFINITY]) {
      const err = refusal(withCommand({ kind: 'balanced', responds: false, queued: false, timeout }));
      expect(err.code).toBe(MeshErrorCode.SCHEMA_INVALID);
      expect(err.message).toMatch(/'timeout'/);
    }
  });

  it('refuses bad retries, retries on a broadcast, and responds on a balanced command', () => {
    expect(refusal(withCommand({ kind: 'balanced', responds: false, queued: false, retries: -1 })).message).toMatch(/'retries'/);
    expect(refusal(withCommand({ kind: 'broadcast', responds: false, queued: false, retries: 1 })).message).toMatch(/'retries'/);
    expect(refusal(withCommand({ kind: 'balanced', responds: true, queued: false })).message).toMatch(/'responds'/);
  });

  it('refuses an unknown kind, a reserved command name and a non-object spec', () => {
    expect(refusal(withCommand({ kind: 'fanout' })).message).toMatch(/kind/);
    expect(refusal({ ...base, commands: { constructor: { kind: 'balanced', responds: false, queued: false } } }).message).toMatch(
      /reserved/,
    );
    expect(refusal(withCommand(null)).code).toBe(MeshErrorCode.SCHEMA_INVALID);
  });

  it('refuses bad identity and address fields, naming them', () => {
    expect(refusal({ ...base, worker: '', commands: {} }).message).toMatch(/worker/);
    expect(refusal({ ...base, port: 70000, commands: {} }).message).toMatch(/port/);
    expect(refusal({ ...base, allow: 'everyone', commands: {} }).code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(refusal('hello').message).toMatch(/not an object/);
  });
});
