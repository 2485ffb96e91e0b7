import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';
import type { MeshKey, MeshKeys } from '../crypto/mesh-keys.js';
import { SealedMemo } from './sealed-memo.js';

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
  /** Several requests in one job, in order (see redis-batch.ts); a tag of their own, so a batch never opens as one payload. */
  sealBatch(entries: readonly BatchEntry[], context: SealContext): string;
  /** Throws when the entry is malformed, tampered with, sealed for another job, or under a key not held. */
  open(sealed: unknown, context: SealContext): unknown;
  /** As `open`, for an entry `isSealedBatch` says holds a batch. */
  openBatch(sealed: unknown, context: SealContext): BatchEntry[];
}

/** One request of a batch: its request id and its payload. */
export interface BatchEntry {
  id: string;
  payload: unknown;
}

/** True when `sealed` was made by `sealBatch` (read before opening, to know which shape to expect). */
export function isSealedBatch(sealed: unknown): boolean {
  return typeof sealed === 'string' && sealed.startsWith(`${BATCH_FORMAT}.`);
}

export interface SealContext {
  queue: string;
  jobId: string;
}

const FORMAT = 'sm1';
/** A batch is bound to its kind too (its own associated data), so it cannot pass for a single payload or back. */
const BATCH_FORMAT = 'smb1';
const INFO = 'socket-mesh/v2/queue-at-rest';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Nonces drawn 12 bytes at a time from this many random bytes: one call to the CSPRNG per 256 seals, not one each. */
const NONCE_POOL_BYTES = NONCE_BYTES * 256;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;

/** A fresh random nonce, valid until the next call (createCipheriv and Buffer.concat copy it). */
function nextNonce(): Buffer {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomFillSync(Buffer.allocUnsafe(NONCE_POOL_BYTES));
    nonceOffset = 0;
  }
  nonceOffset += NONCE_BYTES;
  return noncePool.subarray(nonceOffset - NONCE_BYTES, nonceOffset);
}

/** Associated data up to the job id, by format and queue (a backend has a few queues, each sealing for a lifetime). */
const adPrefixes = new Map<string, Buffer>();

function associatedData({ queue, jobId }: SealContext, format = FORMAT): Buffer {
  const cacheKey = `${format}\0${queue}`;
  let prefix = adPrefixes.get(cacheKey);
  if (!prefix) {
    const q = Buffer.from(queue, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(q.length);
    // The single format keeps the associated data it always had: entries stored before batches still open.
    const info = format === FORMAT ? `${INFO}\0` : `${INFO}/${format}\0`;
    prefix = Buffer.concat([Buffer.from(info), len, q]);
    if (adPrefixes.size < 1024) adPrefixes.set(cacheKey, prefix);
  }
  return Buffer.concat([prefix, Buffer.from(jobId, 'utf8')]);
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
  const memo = new SealedMemo();
  const sealText = (text: string, context: SealContext, format: string): string => {
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', keyFor(current), nonce);
    cipher.setAAD(associatedData(context, format));
    const body = Buffer.concat([nonce, cipher.update(Buffer.from(text, 'utf8')), cipher.final(), cipher.getAuthTag()]);
    const sealed = `${format}.${current.keyId}.${body.toString('base64url')}`;
    memo.remember(sealed, text, format, context);
    return sealed;
  };
  const openText = (sealed: unknown, context: SealContext, expected: string): string => {
    if (typeof sealed !== 'string') throw new Error('not a sealed payload');
    const known = memo.take(sealed, expected, context);
    if (known !== undefined) return known;
    const [format, keyId, data, extra] = sealed.split('.');
    if (format !== expected || keyId === undefined || data === undefined || extra !== undefined)
      throw new Error('not a sealed payload');
    const key = keys.ring.find((k) => k.keyId === keyId);
    if (!key) throw new Error(`sealed under key ${/^[0-9a-f]{1,64}$/.test(keyId) ? keyId : '?'}, which this node does not hold`);
    const body = Buffer.from(data, 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed payload too short');
    const decipher = createDecipheriv('aes-256-gcm', keyFor(key), body.subarray(0, NONCE_BYTES));
    decipher.setAAD(associatedData(context, format));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error('sealed payload does not authenticate (changed, or stored for another job)');
    }
  };
  return {
    // Boxed, so that an `undefined` payload survives.
    seal: (payload, context) => sealText(JSON.stringify({ p: payload }), context, FORMAT),
    open: (sealed, context) => (JSON.parse(openText(sealed, context, FORMAT)) as { p?: unknown }).p,
    sealBatch(entries, context) {
      // [id] for an undefined payload, which JSON would turn into null inside an array.
      const b = entries.map((e) => (e.payload === undefined ? [e.id] : [e.id, e.payload]));
      return sealText(JSON.stringify({ b }), context, BATCH_FORMAT);
    },
    openBatch(sealed, context) {
      const { b } = JSON.parse(openText(sealed, context, BATCH_FORMAT)) as { b?: unknown };
      if (!Array.isArray(b)) throw new Error('sealed batch holds no request list');
      return b.map((entry: unknown) => {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error('sealed batch holds a malformed request');
        return { id: entry[0], payload: entry[1] as unknown };
      });
    },
  };
}
