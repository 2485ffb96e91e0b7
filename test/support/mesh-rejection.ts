import { expect } from '@jest/globals';
import { MeshError } from '../../lib/core/errors.js';

/** The MeshError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function meshError(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError);
    return err as MeshError;
  }
  throw new Error('expected a MeshError, the promise resolved');
}
