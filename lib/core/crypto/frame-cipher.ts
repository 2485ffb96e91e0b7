import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES-256-GCM with an implicit per-direction counter nonce. The counter is never sent: the
 * receiver uses the count it expects, so a replayed, dropped or reordered frame decrypts under
 * the wrong nonce and fails authentication. Each direction has its own key, so the two
 * counters can never produce the same (key, nonce) pair.
 */
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

function nonceFor(counter: bigint, out: Buffer): Buffer {
  out.writeBigUInt64BE(counter, 4);
  return out;
}

export class FrameSealer {
  private counter = 0n;
  private readonly nonce = Buffer.alloc(12);

  constructor(private readonly key: Buffer) {}

  seal(plaintext: Buffer): Buffer {
    const cipher = createCipheriv(ALGORITHM, this.key, nonceFor(this.counter++, this.nonce));
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    return Buffer.concat([head, tail, cipher.getAuthTag()], head.length + tail.length + TAG_BYTES);
  }
}

export class FrameOpener {
  private counter = 0n;
  private readonly nonce = Buffer.alloc(12);

  constructor(private readonly key: Buffer) {}

  /** Throws on a tampered, replayed, reordered or truncated frame; the caller must then drop the connection. */
  open(frame: Buffer): Buffer {
    if (frame.length < TAG_BYTES) throw new Error('frame shorter than its authentication tag');
    const decipher = createDecipheriv(ALGORITHM, this.key, nonceFor(this.counter, this.nonce));
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    const head = decipher.update(frame.subarray(0, frame.length - TAG_BYTES));
    const tail = decipher.final();
    this.counter++;
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  }
}
