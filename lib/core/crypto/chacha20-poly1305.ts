import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { MeshError, MeshErrorCode } from '../errors.js';

/**
 * ChaCha20-Poly1305 (RFC 8439, the IETF variant: 96-bit nonce, no associated data), sealed
 * as `ciphertext || 16-byte tag`. Two implementations give the same bytes, so the two ends of
 * a connection may use different ones, and one end may switch between them at any frame:
 *
 * - `node:crypto` (OpenSSL): works everywhere, but needs a new cipher object per frame, about
 *   3-4 µs of fixed cost; fastest for large frames (vectorised ChaCha20).
 * - libsodium through the optional native addon `sodium-native`: about 1 µs for a small
 *   frame, but slower per byte than OpenSSL on CPUs with wide vector units.
 *
 * So by default small frames go through libsodium and large ones through node:crypto (measured
 * crossover: bench/aead.ts). SOCKET_MESH_CRYPTO=node never loads the addon; =sodium loads it at
 * once and uses it for every frame (tests); unset or =auto is the default.
 */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** `ad`: associated data; frames have none, the RFC 8439 test vectors do. */
export interface Aead {
  readonly name: string;
  /**
   * `headroom` bytes are left free just before the returned view, in the same buffer (the frame
   * parser puts its tag there instead of copying the frame).
   */
  seal(key: Buffer, nonce: Buffer, plaintext: Buffer, ad?: Buffer, headroom?: number): Buffer;
  /**
   * Throws when the frame does not authenticate under this key and nonce. With `into` (large
   * enough), the plaintext may be written there and returned as a view of it.
   */
  open(key: Buffer, nonce: Buffer, sealed: Buffer, ad?: Buffer, into?: Buffer): Buffer;
}

const ALGORITHM = 'chacha20-poly1305';

export const nodeAead: Aead = {
  name: 'node:crypto',
  seal(key, nonce, plaintext, ad, headroom = 0) {
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    if (ad) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const out = Buffer.allocUnsafe(headroom + head.length + tail.length + TAG_BYTES);
    head.copy(out, headroom);
    tail.copy(out, headroom + head.length);
    cipher.getAuthTag().copy(out, headroom + head.length + tail.length);
    return out.subarray(headroom);
  },
  open(key, nonce, sealed, ad) {
    if (sealed.length < TAG_BYTES) throw new Error('frame shorter than its authentication tag');
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    if (ad) decipher.setAAD(ad, { plaintextLength: sealed.length - TAG_BYTES });
    const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  },
};

/** The two functions of sodium-native we use (it ships no types). */
interface SodiumNative {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Buffer, m: Buffer, ad: Buffer | null, nsec: null, npub: Buffer, k: Buffer): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Buffer, nsec: null, c: Buffer, ad: Buffer | null, npub: Buffer, k: Buffer): number;
}

function sodiumAeadOf(sodium: SodiumNative): Aead {
  return {
    name: 'libsodium',
    seal(key, nonce, plaintext, ad, headroom = 0) {
      const out = Buffer.allocUnsafe(headroom + plaintext.length + TAG_BYTES).subarray(headroom);
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, ad ?? null, null, nonce, key);
      return out;
    },
    open(key, nonce, sealed, ad, into) {
      if (sealed.length < TAG_BYTES) throw new Error('frame shorter than its authentication tag');
      const length = sealed.length - TAG_BYTES;
      const out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, sealed, ad ?? null, nonce, key);
      return out;
    },
  };
}

let sodiumAead: Aead | null | undefined; // undefined: not tried yet; null: cannot load here

/** libsodium's implementation, or undefined where the native addon cannot load (no prebuild, no addons allowed). */
export function loadSodiumAead(): Aead | undefined {
  if (sodiumAead === undefined) {
    try {
      sodiumAead = sodiumAeadOf(createRequire(import.meta.url)('sodium-native') as SodiumNative);
    } catch {
      sodiumAead = null;
    }
  }
  return sodiumAead ?? undefined;
}

/** Above this many bytes node:crypto is faster than libsodium (bench/aead.ts on x86-64 with AVX-512). */
export const SODIUM_MAX_BYTES = 6 * 1024;

function hybridOf(sodium: Aead): Aead {
  return {
    name: 'libsodium + node:crypto',
    seal: (key, nonce, plaintext, ad, headroom) =>
      (plaintext.length <= SODIUM_MAX_BYTES ? sodium : nodeAead).seal(key, nonce, plaintext, ad, headroom),
    open: (key, nonce, sealed, ad, into) =>
      (sealed.length <= SODIUM_MAX_BYTES + TAG_BYTES ? sodium : nodeAead).open(key, nonce, sealed, ad, into),
  };
}

/**
 * Loading the addon costs tens of ms of CPU (its resolver and 2 700 lines of wrapper), so by
 * default it is not loaded at start-up: the first frames of the process (the handshake and
 * registration with the manager among them) use node:crypto, and the addon is loaded when
 * traffic shows it will pay. No timer: a process that stops early never loads it.
 */
const FRAMES_BEFORE_LOAD = 64;

let current: Aead | undefined;
let mode: 'auto' | 'node' | 'sodium' | undefined;
let framesOnNode = 0;

/** The implementation for the next frame. May change between frames: both give the same bytes. */
export function frameAead(): Aead {
  if (current) return current;
  mode ??= readMode();
  if (mode === 'node') return (current = nodeAead);
  if (mode === 'sodium') {
    const sodium = loadSodiumAead();
    if (!sodium)
      throw new MeshError(MeshErrorCode.SCHEMA_INVALID, 'SOCKET_MESH_CRYPTO=sodium, but sodium-native cannot be loaded here');
    return (current = sodium);
  }
  if (++framesOnNode > FRAMES_BEFORE_LOAD) {
    const sodium = loadSodiumAead();
    return (current = sodium ? hybridOf(sodium) : nodeAead);
  }
  return nodeAead;
}

/** Throws MESH_SCHEMA_INVALID for a SOCKET_MESH_CRYPTO value other than auto, node or sodium. */
export function checkCryptoMode(): void {
  mode ??= readMode();
}

function readMode(): 'auto' | 'node' | 'sodium' {
  const value = process.env.SOCKET_MESH_CRYPTO ?? '';
  if (value === '' || value === 'auto') return 'auto';
  if (value === 'node' || value === 'sodium') return value;
  throw new MeshError(MeshErrorCode.SCHEMA_INVALID, `SOCKET_MESH_CRYPTO must be 'auto', 'node' or 'sodium', not '${value}'`);
}
