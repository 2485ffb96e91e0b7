import { createHmac, hkdfSync, scryptSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  checkPrivateKeyOption,
  DeferredMeshKeys,
  deriveMeshKeyAsync,
  deriveMeshKeys,
  MIN_PRIVATE_KEY_LENGTH,
  SCRYPT_PARAMS,
} from '../lib/core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';

const SECRET = 'mesh-secret-0123456789-abcdefghijklmnop';
const OTHER = 'other-secret-0123456789-abcdefghijklmno';

/** Independent reference: HKDF-SHA256(ikm = scrypt(privateKey, "…scrypt:" + publicKey), salt = publicKey). */
function reference(publicKey: string, privateKey: string): { authKey: Buffer; keyId: string } {
  const stretched = scryptSync(privateKey, `socket-mesh/v2/scrypt:${publicKey}`, 32, {
    N: 2 ** 14,
    r: 8,
    p: 1,
    maxmem: 32 << 20,
  });
  const authKey = Buffer.from(hkdfSync('sha256', stretched, publicKey, 'socket-mesh/v2/auth', 32));
  const keyId = createHmac('sha256', authKey).update('socket-mesh/v2/key-id').digest('hex').slice(0, 12);
  return { authKey, keyId };
}

function schemaError(fn: () => unknown): MeshError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MeshError);
  expect((caught as MeshError).code).toBe(MeshErrorCode.SCHEMA_INVALID);
  return caught as MeshError;
}

describe('deriveMeshKeys', () => {
  it('is deterministic, and a second derivation in the process is served from the cache', () => {
    const a = deriveMeshKeys('mesh-public', SECRET);
    const started = process.hrtime.bigint();
    const b = deriveMeshKeys('mesh-public', SECRET);
    const cachedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(a.authKey.equals(b.authKey)).toBe(true);
    expect(a.keyId).toBe(b.keyId);
    expect(a.authKey).toHaveLength(32);
    expect(a.keyId).toMatch(/^[0-9a-f]{12}$/);
    // A scrypt at these parameters takes tens of ms at the very least; a cache hit is a hash.
    expect(cachedMs).toBeLessThan(5);
  });

  it('stretches with scrypt (N=2^14, r=8, p=1) before HKDF: matches an independent computation', () => {
    expect(SCRYPT_PARAMS).toMatchObject({ N: 2 ** 14, r: 8, p: 1 });
    for (const [pub, priv] of [
      ['mesh-public', SECRET],
      ['ünïcödé-mesh', '秘密の鍵'.repeat(8)],
    ] as const) {
      const got = deriveMeshKeys(pub, priv);
      const want = reference(pub, priv);
      expect(got.authKey.toString('hex')).toBe(want.authKey.toString('hex'));
      expect(got.keyId).toBe(want.keyId);
    }
  });

  it('each derivation of a new key costs a scrypt (what every offline guess now pays)', () => {
    const started = process.hrtime.bigint();
    deriveMeshKeys('mesh-public', `fresh-${Date.now()}-${'z'.repeat(32)}`);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // The bare HKDF of 0.1.0 took microseconds; 16 MiB of scrypt cannot be done under 10 ms.
    expect(ms).toBeGreaterThan(10);
  });

  it('treats publicKey and privateKey as different roles; either one changes the key', () => {
    const base = deriveMeshKeys('mesh-public', SECRET);
    expect(deriveMeshKeys('mesh-public2', SECRET).authKey.equals(base.authKey)).toBe(false);
    expect(deriveMeshKeys('mesh-public', OTHER).keyId).not.toBe(base.keyId);
    expect(deriveMeshKeys(SECRET, 'mesh-public'.repeat(3)).authKey.equals(base.authKey)).toBe(false);
  });

  it('a list gives a ring, current first; authKey/keyId name the current key', () => {
    const keys = deriveMeshKeys('mesh-public', [OTHER, SECRET]);
    expect(keys.ring.map((k) => k.keyId)).toEqual([
      deriveMeshKeys('mesh-public', OTHER).keyId,
      deriveMeshKeys('mesh-public', SECRET).keyId,
    ]);
    expect(keys.keyId).toBe(keys.ring[0]!.keyId);
    expect(keys.authKey.equals(keys.ring[0]!.authKey)).toBe(true);
  });

  it('keyId does not reveal the authKey', () => {
    const keys = deriveMeshKeys('mesh-public', SECRET);
    expect(keys.authKey.toString('hex')).not.toContain(keys.keyId);
  });

  it.each([
    ['empty string', ''],
    ['undefined', undefined],
    ['number', 42],
    ['object', { key: 'abc' }],
  ])('refuses a publicKey that is %s with MESH_SCHEMA_INVALID naming the option', (_label, bad) => {
    expect(schemaError(() => deriveMeshKeys(bad, SECRET)).message).toMatch(/'publicKey'/);
  });

  it.each([
    ['empty string', '', /'privateKey' is too short/],
    ['one character', 'a', /'privateKey' is too short: at least 32/],
    ['31 characters', 'k'.repeat(31), /'privateKey' is too short/],
    ['a dictionary word', 'password', /'privateKey' is too short/],
    ['undefined', undefined, /'privateKey' is required/],
    ['null', null, /'privateKey' is required/],
    ['a number', 1234567890123, /'privateKey' must be/],
    ['a Buffer', Buffer.from('x'.repeat(40)), /'privateKey'/],
    ['an empty list', [], /'privateKey' must list 1 to 4 keys/],
    ['a list with a short key', [SECRET, 'short'], /'privateKey\[1\]' is too short/],
    ['a list with a number', [SECRET, 99999], /'privateKey\[1\]' must be/],
    ['a list with a key twice', [SECRET, SECRET], /'privateKey\[1\]' repeats/],
    ['five keys', ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(32)), /1 to 4 keys/],
  ])('refuses a privateKey that is %s with MESH_SCHEMA_INVALID naming the option', (_label, bad, message) => {
    expect(schemaError(() => deriveMeshKeys('mesh-public', bad)).message).toMatch(message);
  });

  it('accepts exactly 32 characters', () => {
    expect(MIN_PRIVATE_KEY_LENGTH).toBe(32);
    expect(checkPrivateKeyOption('k'.repeat(32))).toBe('k'.repeat(32));
  });

  it('never echoes a key value, not even a numeric one, in the error', () => {
    for (const secret of ['short-secret-value', 987654321987, ['s3cr3t-in-a-list']]) {
      const message = schemaError(() => deriveMeshKeys('mesh-public', secret)).message;
      expect(message).not.toContain('short-secret-value');
      expect(message).not.toContain('987654321987');
      expect(message).not.toContain('s3cr3t');
    }
  });
});

describe('DeferredMeshKeys (scrypt on the thread pool)', () => {
  it('derives the same keys as the synchronous path, and only after the constructor returned', async () => {
    const pub = `deferred-${Date.now()}`;
    const keys = new DeferredMeshKeys(pub, [SECRET, OTHER]);
    // A fresh key cannot be done yet: the stretch runs off the main thread and reports back on a later turn.
    expect(() => keys.keyId).toThrow(/still being derived/);
    await keys.ready;
    const want = reference(pub, SECRET);
    expect(keys.authKey.toString('hex')).toBe(want.authKey.toString('hex'));
    expect(keys.keyId).toBe(want.keyId);
    expect(keys.ring.map((k) => k.keyId)).toEqual([want.keyId, reference(pub, OTHER).keyId]);
    // The result is cached for the synchronous path too.
    expect(deriveMeshKeys(pub, SECRET).keyId).toBe(want.keyId);
  });

  it('shares one derivation between concurrent requests for the same key', async () => {
    const pub = `shared-${Date.now()}`;
    const [a, b] = [deriveMeshKeyAsync(pub, SECRET), deriveMeshKeyAsync(pub, SECRET)];
    expect(a).toBe(b);
    expect((await a).keyId).toBe(reference(pub, SECRET).keyId);
  });

  it('refuses a bad option synchronously, naming the option and never echoing the value', () => {
    const short = schemaError(() => new DeferredMeshKeys('mesh-public', 'short-secret-value'));
    expect(short.message).toMatch(/'privateKey' is too short: at least 32/);
    expect(short.message).not.toContain('short-secret-value');
    expect(schemaError(() => new DeferredMeshKeys('', SECRET)).message).toMatch(/'publicKey'/);
    expect(schemaError(() => new DeferredMeshKeys('mesh-public', [SECRET, 12345678901])).message).toMatch(
      /'privateKey\[1\]' must be/,
    );
  });
});
