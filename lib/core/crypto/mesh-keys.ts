import { createHmac, hkdfSync } from 'node:crypto';

/**
 * The long-lived secret every node derives from the shared key strings, once at start.
 * `publicKey` names the mesh (HKDF salt: two meshes with the same secret still get different
 * keys); `privateKey` is the secret itself (HKDF input keying material).
 */
export interface MeshKeys {
  /** 32 bytes; only ever used as an HMAC / HKDF key, never to encrypt directly. */
  readonly authKey: Buffer;
  /** A short, non-secret fingerprint for logs, so a key mismatch is visible without leaking keys. */
  readonly keyId: string;
}

const AUTH_INFO = 'socket-mesh/v1/auth';

export function deriveMeshKeys(publicKey: unknown, privateKey: unknown): MeshKeys {
  if (typeof publicKey !== 'string' || publicKey.length === 0) {
    throw new TypeError('socket-mesh: `publicKey` must be a non-empty string shared by every node of the mesh');
  }
  if (typeof privateKey !== 'string' || privateKey.length === 0) {
    throw new TypeError('socket-mesh: `privateKey` must be a non-empty string shared by every node of the mesh');
  }
  const authKey = Buffer.from(hkdfSync('sha256', Buffer.from(privateKey, 'utf8'), Buffer.from(publicKey, 'utf8'), AUTH_INFO, 32));
  const keyId = createHmac('sha256', authKey).update('socket-mesh/v1/key-id').digest('hex').slice(0, 8);
  return { authKey, keyId };
}
