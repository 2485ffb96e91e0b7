import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { loadSodiumAead, nodeAead, SODIUM_MAX_BYTES, type Aead } from '../lib/core/crypto/chacha20-poly1305.js';
import { FrameOpener, FrameSealer } from '../lib/core/crypto/frame-cipher.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

// RFC 8439, section 2.8.2: AEAD_CHACHA20_POLY1305 test vector.
const RFC = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('070000004041424344454647'),
  ad: hex('50515253c0c1c2c3c4c5c6c7'),
  plaintext: Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  ciphertext: hex(`
    d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b 6116`),
  tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
};

// The CI image and every supported platform ship a sodium-native prebuild: not loading it is a failure here.
const sodium = loadSodiumAead();
const implementations: [string, Aead][] = [
  ['node:crypto', nodeAead],
  ['libsodium', sodium as Aead],
];

describe('ChaCha20-Poly1305 implementations', () => {
  it('sodium-native loads on this platform', () => {
    expect(sodium).toBeDefined();
  });

  describe.each(implementations)('%s', (_name, aead) => {
    it('seals the RFC 8439 section 2.8.2 vector to the published ciphertext and tag', () => {
      const sealed = aead.seal(RFC.key, RFC.nonce, RFC.plaintext, RFC.ad);
      expect(sealed.subarray(0, -16).toString('hex')).toBe(RFC.ciphertext.toString('hex'));
      expect(sealed.subarray(-16).toString('hex')).toBe(RFC.tag.toString('hex'));
    });

    it('opens the RFC 8439 vector and rejects it with a changed tag, ciphertext or associated data', () => {
      const sealed = Buffer.concat([RFC.ciphertext, RFC.tag]);
      expect(aead.open(RFC.key, RFC.nonce, sealed, RFC.ad).toString()).toBe(RFC.plaintext.toString());
      const badTag = Buffer.from(sealed);
      badTag[badTag.length - 1] ^= 1;
      expect(() => aead.open(RFC.key, RFC.nonce, badTag, RFC.ad)).toThrow();
      const badText = Buffer.from(sealed);
      badText[3] ^= 0x80;
      expect(() => aead.open(RFC.key, RFC.nonce, badText, RFC.ad)).toThrow();
      expect(() => aead.open(RFC.key, RFC.nonce, sealed, Buffer.alloc(12))).toThrow();
      expect(() => aead.open(RFC.key, RFC.nonce, sealed)).toThrow();
    });

    it('refuses a frame shorter than its tag', () => {
      expect(() => aead.open(RFC.key, RFC.nonce, Buffer.alloc(15))).toThrow(/shorter than its authentication tag/);
    });
  });

  it.each([0, 1, 100, 1024, SODIUM_MAX_BYTES, SODIUM_MAX_BYTES + 1, 16 * 1024, 200_000])(
    'both give the same bytes for a %i-byte frame, and each opens the other',
    (size) => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const plaintext = randomBytes(size);
      const byNode = nodeAead.seal(key, nonce, plaintext);
      const bySodium = sodium!.seal(key, nonce, plaintext);
      expect(bySodium.equals(byNode)).toBe(true);
      expect(sodium!.open(key, nonce, byNode).equals(plaintext)).toBe(true);
      expect(nodeAead.open(key, nonce, bySodium).equals(plaintext)).toBe(true);
    },
  );
});

describe.each([
  ['node:crypto seals, libsodium opens', nodeAead, sodium as Aead],
  ['libsodium seals, node:crypto opens', sodium as Aead, nodeAead],
])('frames across implementations: %s', (_label, sealWith, openWith) => {
  const pair = () => {
    const key = randomBytes(32);
    return { sealer: new FrameSealer(key, sealWith), opener: new FrameOpener(key, openWith) };
  };

  it('round-trips a stream of frames of varied sizes', () => {
    const { sealer, opener } = pair();
    for (let i = 0; i < 300; i++) {
      const plaintext = randomBytes((i * 997) % 20_000);
      expect(opener.open(sealer.seal(plaintext)).equals(plaintext)).toBe(true);
    }
  });

  it('rejects tampered, replayed and reordered frames', () => {
    const { sealer, opener } = pair();
    const first = sealer.seal(Buffer.from('one'));
    const second = sealer.seal(Buffer.from('two'));
    const tampered = Buffer.from(first);
    tampered[0] ^= 1;
    expect(() => opener.open(tampered)).toThrow();
    expect(() => opener.open(second)).toThrow(); // reordered: #1 before #0
    expect(opener.open(first).toString()).toBe('one');
    expect(() => opener.open(first)).toThrow(); // replayed
    expect(opener.open(second).toString()).toBe('two');
  });

  it('a frame sealed with one key does not open with another', () => {
    const sealer = new FrameSealer(randomBytes(32), sealWith);
    const opener = new FrameOpener(randomBytes(32), openWith);
    expect(() => opener.open(sealer.seal(Buffer.from('x')))).toThrow();
  });
});
