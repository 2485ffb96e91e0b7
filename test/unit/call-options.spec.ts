import { describe, expect, it } from '@jest/globals';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { normalizeCallOptions } from '../../lib/core/options/call-options.js';

const norm = (options: unknown) => normalizeCallOptions(options, 'NodeB', 'status');

function badRequest(options: unknown): MeshError {
  try {
    norm(options);
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe(MeshErrorCode.BAD_REQUEST);
    return err as MeshError;
  }
  throw new Error('expected MESH_BAD_REQUEST');
}

describe('normalizeCallOptions', () => {
  it('leaves absent settings undefined so the command and worker defaults apply', () => {
    expect(norm(undefined)).toEqual({ filter: undefined, settle: false });
    expect(norm({})).toEqual({ filter: undefined, settle: false });
    expect(norm({ timeout: 50, retries: 2, settle: true })).toMatchObject({ timeout: 50, retries: 2, settle: true });
  });

  it('takes variants as strings, peer objects from peers(), or arrays of both', () => {
    const peer = { worker: 'NodeB', variant: 'b-2', host: '127.0.0.1', port: 4000 };
    expect(norm({ only: 'b-1' }).filter!('b-1')).toBe(true);
    expect(norm({ only: 'b-1' }).filter!('b-2')).toBe(false);
    expect(norm({ only: peer }).filter!('b-2')).toBe(true);
    const mixed = norm({ only: ['b-1', peer], exclude: [{ ...peer, variant: 'b-1' }] }).filter!;
    expect([mixed('b-1'), mixed('b-2'), mixed('b-3')]).toEqual([false, true, false]);
    expect(norm({ exclude: peer }).filter!('b-1')).toBe(true);
  });

  it.each([
    [{ only: 42 }, /only must be a variant string, a peer from peers\(\)/],
    [{ exclude: [{ host: 'h' }] }, /exclude must be a variant string/],
    [{ only: [''] }, /only must be/],
    [{ timeout: 0 }, /timeout must be a positive number of ms/],
    [{ retries: 1.5 }, /retries must be a whole number/],
    [{ settle: 'yes' }, /settle must be a boolean/],
    ['fast', /call options must be an object/],
  ])('refuses %j with MESH_BAD_REQUEST naming the option', (options, message) => {
    expect(badRequest(options).message).toMatch(message);
  });
});
