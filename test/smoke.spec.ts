import { describe, expect, it } from '@jest/globals';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';

describe('MeshError', () => {
  it('keeps its code and serialises without the stack', () => {
    const err = new MeshError(MeshErrorCode.TIMEOUT, 'late', { status: 504 });
    expect(err.toJSON()).toEqual({ code: 'MESH_TIMEOUT', message: 'late', status: 504 });
    expect(err).toBeInstanceOf(Error);
  });
});
