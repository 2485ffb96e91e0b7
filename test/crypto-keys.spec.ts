import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';

/** Independent reference: HKDF-SHA256(ikm = privateKey, salt = publicKey, info, 32). */
function reference(publicKey: string, privateKey: string): { authKey: Buffer; keyId: string } {
  const authKey = Buffer.from(hkdfSync('sha256', privateKey, publicKey, 'socket-mesh/v1/auth', 32));
  const keyId = createHmac('sha256', authKey).update('socket-mesh/v1/key-id').digest('hex').slice(0, 8);
  return { authKey, keyId };
}

describe('deriveMeshKeys', () => {
  it('is deterministic', () => {
    const a = deriveMeshKeys('mesh-public', 'mesh-secret');
    const b = deriveMeshKeys('mesh-public', 'mesh-secret');
    expect(a.authKey.equals(b.authKey)).toBe(true);
    expect(a.keyId).toBe(b.keyId);
    expect(a.authKey).toHaveLength(32);
    expect(a.keyId).toMatch(/^[0-9a-f]{8}$/);
  });

  it('matches an independent HKDF-SHA256 computation (privateKey = IKM, publicKey = salt)', () => {
    for (const [pub, priv] of [
      ['mesh-public', 'mesh-secret'],
      ['p', 's'],
      ['ünïcödé-mesh', '秘密の鍵'],
      ['x'.repeat(500), 'y'.repeat(1000)],
    ] as const) {
      const got = deriveMeshKeys(pub, priv);
      const want = reference(pub, priv);
      expect(got.authKey.toString('hex')).toBe(want.authKey.toString('hex'));
      expect(got.keyId).toBe(want.keyId);
    }
  });

  it('known answer: pins the derivation for fixed inputs', () => {
    const keys = deriveMeshKeys('mesh-public', 'mesh-secret');
    expect(keys.authKey.toString('hex')).toBe('1b62a83db0435686394f76a8d01a82692d3dc4b87b17dffde32a84b9a6666407');
    expect(keys.keyId).toBe('d6a2ba04');
  });

  it('treats publicKey and privateKey as different roles (swapping them changes the key)', () => {
    const a = deriveMeshKeys('alpha', 'beta');
    const b = deriveMeshKeys('beta', 'alpha');
    expect(a.authKey.equals(b.authKey)).toBe(false);
  });

  it('a different publicKey gives a different authKey and keyId', () => {
    const a = deriveMeshKeys('mesh-public', 'mesh-secret');
    const b = deriveMeshKeys('mesh-public2', 'mesh-secret');
    expect(a.authKey.equals(b.authKey)).toBe(false);
    expect(a.keyId).not.toBe(b.keyId);
  });

  it('a different privateKey gives a different authKey and keyId', () => {
    const a = deriveMeshKeys('mesh-public', 'mesh-secret');
    const b = deriveMeshKeys('mesh-public', 'mesh-secreT');
    expect(a.authKey.equals(b.authKey)).toBe(false);
    expect(a.keyId).not.toBe(b.keyId);
  });

  it('keyId does not reveal the authKey', () => {
    const keys = deriveMeshKeys('mesh-public', 'mesh-secret');
    expect(keys.authKey.toString('hex')).not.toContain(keys.keyId);
  });

  it.each([
    ['empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['number', 42],
    ['Buffer', Buffer.from('abc')],
    ['object', { key: 'abc' }],
  ])('rejects a publicKey that is %s with a TypeError naming the option', (_label, bad) => {
    expect(() => deriveMeshKeys(bad, 'mesh-secret')).toThrow(TypeError);
    expect(() => deriveMeshKeys(bad, 'mesh-secret')).toThrow(/`publicKey`/);
  });

  it.each([
    ['empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['number', 42],
    ['Buffer', Buffer.from('abc')],
    ['object', { key: 'abc' }],
  ])('rejects a privateKey that is %s with a TypeError naming the option', (_label, bad) => {
    expect(() => deriveMeshKeys('mesh-public', bad)).toThrow(TypeError);
    expect(() => deriveMeshKeys('mesh-public', bad)).toThrow(/`privateKey`/);
  });

  it('never echoes the secret in the error message', () => {
    try {
      deriveMeshKeys(123, 'super-secret-value');
      throw new Error('expected a TypeError');
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).not.toContain('super-secret-value');
    }
  });
});
