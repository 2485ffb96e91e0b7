/**
 * `node build/bench/aead.js`: CPU µs per seal and per open of one frame, for each
 * ChaCha20-Poly1305 implementation of lib/core/crypto/chacha20-poly1305.ts and for the former
 * AES-256-GCM path, at several frame sizes. CPU time (process.cpuUsage), best of 5 batches, so
 * a busy machine skews it less than wall time.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { loadSodiumAead, nodeAead, type Aead } from '../lib/core/crypto/chacha20-poly1305.js';

const TAG = 16;
const aesGcm: Aead = {
  name: 'node:crypto AES-256-GCM (before)',
  seal(key, nonce, plaintext) {
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const head = c.update(plaintext);
    const tail = c.final();
    return Buffer.concat([head, tail, c.getAuthTag()], head.length + tail.length + TAG);
  },
  open(key, nonce, sealed) {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const head = d.update(sealed.subarray(0, sealed.length - TAG));
    const tail = d.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  },
};

function cpuUsPerOp(fn: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / n);
  }
  return best;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [100, 1024, 4096, 8192, 12288, 16384, 65536];
const key = randomBytes(32);
const nonce = Buffer.alloc(12);
const impls = [aesGcm, nodeAead, loadSodiumAead()].filter((a): a is Aead => a !== undefined);
console.log('| frame bytes | ' + impls.map((a) => `${a.name} seal / open µs`).join(' | ') + ' |');
console.log('| --- |' + impls.map(() => ' --- |').join(''));
for (const size of SIZES) {
  const plaintext = randomBytes(size);
  // Batches of tens of ms: the kernel accounts CPU time in ticks, short batches get quantised.
  const n = Math.max(5000, Math.floor(2e7 / (size + 200)));
  const cells = impls.map((aead) => {
    const sealed = aead.seal(key, nonce, plaintext);
    const seal = cpuUsPerOp(() => aead.seal(key, nonce, plaintext), n);
    const open = cpuUsPerOp(() => aead.open(key, nonce, sealed), n);
    return `${seal.toFixed(2)} / ${open.toFixed(2)}`;
  });
  console.log(`| ${size} | ${cells.join(' | ')} |`);
}
