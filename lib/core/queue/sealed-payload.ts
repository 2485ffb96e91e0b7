import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { MeshKey, MeshKeys } from '../crypto/mesh-keys.js';

/**
 * Queued payloads at rest: AES-256-GCM under a key derived (HKDF) from the mesh key, with the
 * queue name and job id as associated data, so an entry read from Redis (or a backup) shows
 * nothing of the payload, and an entry edited, or moved to another job or queue, is refused.
 * The stored string names the mesh key it was sealed under (its keyId), so entries sealed
 * before a key rotation still open while the node holds the old key too.
 *
 * Nonces are random (96 bits): safe for far more entries than a queue ever holds under one key.
 */
export interface PayloadSealer {
  seal(payload: unknown, context: SealContext): string;
  /** Throws when the entry is malformed, tampered with, sealed for another job, or under a key not held. */
  open(sealed: unknown, context: SealContext): unknown;
}

export interface SealContext {
  queue: string;
  jobId: string;
}

const FORMAT = 'sm1';
const INFO = 'socket-mesh/v2/queue-at-rest';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function associatedData({ queue, jobId }: SealContext): Buffer {
  const q = Buffer.from(queue, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(q.length);
  return Buffer.concat([Buffer.from(`${INFO}\0`), len, q, Buffer.from(jobId, 'utf8')]);
}

export function payloadSealer(keys: MeshKeys): PayloadSealer {
  const atRest = new Map<string, Buffer>();
  const keyFor = (key: MeshKey): Buffer => {
    let k = atRest.get(key.keyId);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', key.authKey, Buffer.alloc(0), INFO, 32));
      atRest.set(key.keyId, k);
    }
    return k;
  };
  const current = keys.ring[0]!;
  return {
    seal(payload, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyFor(current), nonce);
      cipher.setAAD(associatedData(context));
      // Boxed, so that an `undefined` payload survives.
      const plaintext = Buffer.from(JSON.stringify({ p: payload }), 'utf8');
      const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return `${FORMAT}.${current.keyId}.${body.toString('base64url')}`;
    },
    open(sealed, context) {
      if (typeof sealed !== 'string') throw new Error('not a sealed payload');
      const [format, keyId, data, extra] = sealed.split('.');
      if (format !== FORMAT || keyId === undefined || data === undefined || extra !== undefined)
        throw new Error('not a sealed payload');
      const key = keys.ring.find((k) => k.keyId === keyId);
      if (!key)
        throw new Error(`sealed under key ${/^[0-9a-f]{1,64}$/.test(keyId) ? keyId : '?'}, which this node does not hold`);
      const body = Buffer.from(data, 'base64url');
      if (body.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed payload too short');
      const decipher = createDecipheriv('aes-256-gcm', keyFor(key), body.subarray(0, NONCE_BYTES));
      decipher.setAAD(associatedData(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new Error('sealed payload does not authenticate (changed, or stored for another job)');
      }
      return (JSON.parse(plaintext.toString('utf8')) as { p?: unknown }).p;
    },
  };
}
