/**
 * MeshError, the only error a caller sees (replaces the former one-check smoke spec): its wire
 * form, what stays local, the code table's shape, and that both entry points export the same.
 */
import { describe, expect, it } from '@jest/globals';
import * as nestEntry from '../../lib/index.js';
import { MeshError, MeshErrorCode, type MeshOutcome } from '../../lib/plain.js';

describe('MeshError', () => {
  it('is an Error named MeshError with its code, message and a stack', () => {
    const err = new MeshError(MeshErrorCode.TIMEOUT, 'late');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('MeshError');
    expect(err.code).toBe('MESH_TIMEOUT');
    expect(err.message).toBe('late');
    expect(err.stack).toContain('MeshError: late');
  });

  it('keeps the call details locally, but its wire form is code and message only', () => {
    const outcomes: MeshOutcome[] = [{ worker: 'B', variant: 'b1', status: 'fulfilled', value: 1 }];
    const err = new MeshError(MeshErrorCode.PARTIAL_FAILURE, 'one failed', {
      worker: 'B',
      variant: 'b2',
      command: 'collect',
      outcomes,
    });
    expect(err).toMatchObject({ worker: 'B', variant: 'b2', command: 'collect', outcomes });
    // Which instance failed and the others' answers are the caller's business, not the peer's.
    expect(err.toJSON()).toEqual({ code: 'MESH_PARTIAL_FAILURE', message: 'one failed' });
  });

  it('carries a remote error’s name, status and response on the wire, never its stack', () => {
    const err = new MeshError(MeshErrorCode.REMOTE_ERROR, 'forbidden', {
      remoteName: 'ForbiddenException',
      status: 403,
      response: { statusCode: 403, message: 'forbidden' },
    });
    const wire = err.toJSON();
    expect(wire).toEqual({
      code: 'MESH_REMOTE_ERROR',
      message: 'forbidden',
      remoteName: 'ForbiddenException',
      status: 403,
      response: { statusCode: 403, message: 'forbidden' },
    });
    expect(JSON.parse(JSON.stringify(err))).toEqual(wire);
    expect(JSON.stringify(err)).not.toContain('at ');
  });

  it('rebuilt from its wire form, it is the same error for the caller', () => {
    const sent = new MeshError(MeshErrorCode.REMOTE_ERROR, 'teapot', { remoteName: 'HttpException', status: 418 });
    const wire = sent.toJSON();
    const received = new MeshError(wire.code, wire.message, wire);
    expect(received.toJSON()).toEqual(wire);
    expect(received).toMatchObject({ code: sent.code, message: sent.message, remoteName: 'HttpException', status: 418 });
  });
});

describe('MeshErrorCode', () => {
  it('names every code MESH_<KEY>, once', () => {
    const entries = Object.entries(MeshErrorCode);
    expect(entries.length).toBeGreaterThanOrEqual(15);
    for (const [key, value] of entries) expect(value).toBe(`MESH_${key}`);
    expect(new Set(Object.values(MeshErrorCode)).size).toBe(entries.length);
  });

  it("'socket-mesh' and 'socket-mesh/plain' export the same objects", () => {
    expect(nestEntry.MeshError).toBe(MeshError);
    expect(nestEntry.MeshErrorCode).toBe(MeshErrorCode);
    expect(nestEntry.SocketNode).toBeDefined();
    expect(nestEntry.SocketMeshModule).toBeDefined();
  });
});
