import { frameAead, NONCE_BYTES, SODIUM_MAX_BYTES, TAG_BYTES, type Aead } from './chacha20-poly1305.js';

/**
 * ChaCha20-Poly1305 with an implicit per-direction counter nonce. The counter is never sent:
 * the receiver uses the count it expects, so a replayed, dropped or reordered frame decrypts
 * under the wrong nonce and fails authentication. Each direction has its own key, so the two
 * counters can never produce the same (key, nonce) pair.
 *
 * `aead` pins one implementation (tests); by default each frame takes the current one of
 * chacha20-poly1305.ts, which all give the same bytes.
 */
function nonceFor(counter: number, out: Buffer): Buffer {
  // The 64-bit big-endian counter in bytes 4-11, as two 32-bit halves: a number counter (exact
  // up to 2^53 frames) avoids a BigInt per frame.
  out.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 4);
  out.writeUInt32BE(counter >>> 0, 8);
  return out;
}

/**
 * Reused plaintext buffers are kept up to this size; larger frames get one of their own (by
 * default they go through node:crypto, which allocates its output anyway).
 */
const MAX_SCRATCH_BYTES = SODIUM_MAX_BYTES;

export class FrameSealer {
  private counter = 0;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    private readonly key: Buffer,
    private readonly aead?: Aead,
  ) {}

  /** `headroom`: bytes left free before the returned view, in its buffer (see Aead.seal). */
  seal(plaintext: Buffer, headroom = 0): Buffer {
    return (this.aead ?? frameAead()).seal(this.key, nonceFor(this.counter++, this.nonce), plaintext, undefined, headroom);
  }
}

export class FrameOpener {
  private counter = 0;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    private readonly key: Buffer,
    private readonly aead?: Aead,
  ) {}

  /** Throws on a tampered, replayed, reordered or truncated frame; the caller must then drop the connection. */
  open(frame: Buffer): Buffer {
    return this.openInto(frame, undefined);
  }

  /**
   * Same as open(), but the plaintext may be a view of a buffer the opener reuses: valid only
   * until the next call (the channel decodes it at once). Saves an allocation per frame.
   */
  openTransient(frame: Buffer): Buffer {
    const length = frame.length - TAG_BYTES;
    if (length > this.scratch.length && length <= MAX_SCRATCH_BYTES)
      this.scratch = Buffer.allocUnsafeSlow(Math.max(length, 1024));
    return this.openInto(frame, this.scratch);
  }

  private scratch = Buffer.alloc(0);

  private openInto(frame: Buffer, into: Buffer | undefined): Buffer {
    if (frame.length < TAG_BYTES) throw new Error('frame shorter than its authentication tag');
    const plaintext = (this.aead ?? frameAead()).open(this.key, nonceFor(this.counter, this.nonce), frame, undefined, into);
    this.counter++;
    return plaintext;
  }
}
