import { frameAead, NONCE_BYTES, TAG_BYTES, type Aead } from './chacha20-poly1305.js';

/**
 * ChaCha20-Poly1305 with an implicit per-direction counter nonce. The counter is never sent:
 * the receiver uses the count it expects, so a replayed, dropped or reordered frame decrypts
 * under the wrong nonce and fails authentication. Each direction has its own key, so the two
 * counters can never produce the same (key, nonce) pair.
 *
 * `aead` pins one implementation (tests); by default each frame takes the current one of
 * chacha20-poly1305.ts, which all give the same bytes.
 */
function nonceFor(counter: bigint, out: Buffer): Buffer {
  out.writeBigUInt64BE(counter, 4);
  return out;
}

export class FrameSealer {
  private counter = 0n;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    private readonly key: Buffer,
    private readonly aead?: Aead,
  ) {}

  seal(plaintext: Buffer): Buffer {
    return (this.aead ?? frameAead()).seal(this.key, nonceFor(this.counter++, this.nonce), plaintext);
  }
}

export class FrameOpener {
  private counter = 0n;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    private readonly key: Buffer,
    private readonly aead?: Aead,
  ) {}

  /** Throws on a tampered, replayed, reordered or truncated frame; the caller must then drop the connection. */
  open(frame: Buffer): Buffer {
    if (frame.length < TAG_BYTES) throw new Error('frame shorter than its authentication tag');
    const plaintext = (this.aead ?? frameAead()).open(this.key, nonceFor(this.counter, this.nonce), frame);
    this.counter++;
    return plaintext;
  }
}
