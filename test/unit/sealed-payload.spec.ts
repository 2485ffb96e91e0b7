import { describe, expect, it } from '@jest/globals';
import type { MeshKeys } from '../../lib/core/crypto/mesh-keys.js';
import { payloadSealer } from '../../lib/core/queue/sealed-payload.js';

const KEY = { keyId: 'k1', authKey: Buffer.alloc(32, 7) };
const KEYS = { ...KEY, ring: [KEY] } as unknown as MeshKeys;
const AT = { queue: 'socket-mesh.B.ingest.v1', jobId: 'job-1' };

describe('queue payloads at rest', () => {
  it('opens what it sealed, in either shape, and each nonce is fresh', () => {
    const sealer = payloadSealer(KEYS);
    const one = sealer.seal({ n: 1 }, AT);
    expect(sealer.open(one, AT)).toEqual({ n: 1 });
    const batch = sealer.sealBatch(
      [
        { id: 'a', payload: { n: 2 } },
        { id: 'b', payload: undefined },
      ],
      AT,
    );
    expect(sealer.openBatch(batch, AT)).toEqual([
      { id: 'a', payload: { n: 2 } },
      { id: 'b', payload: undefined },
    ]);
    const nonces = new Set(
      Array.from({ length: 600 }, () =>
        Buffer.from(sealer.seal(1, AT).split('.')[2]!, 'base64url').subarray(0, 12).toString('hex'),
      ),
    );
    expect(nonces.size).toBe(600);
  });

  it('refuses its own fresh entry under another job, queue or shape, though it still remembers sealing it', () => {
    for (const [other, open] of [
      [{ ...AT, jobId: 'job-2' }, 'single'],
      [{ ...AT, queue: 'socket-mesh.B.ingest.v2' }, 'single'],
      [AT, 'batch'],
    ] as const) {
      const sealer = payloadSealer(KEYS);
      const sealed = sealer.seal('secret', AT);
      if (open === 'batch') expect(() => sealer.openBatch(sealed, other)).toThrow('not a sealed payload');
      else expect(() => sealer.open(sealed, other)).toThrow('does not authenticate');
    }
  });

  it('refuses a changed entry, and opens its own entry again after reading it once (another process, a re-run)', () => {
    const sealer = payloadSealer(KEYS);
    const sealed = sealer.seal('secret', AT);
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(() => sealer.open(flipped, AT)).toThrow();
    expect(sealer.open(sealed, AT)).toBe('secret');
    expect(sealer.open(sealed, AT)).toBe('secret');
    expect(payloadSealer(KEYS).open(sealed, AT)).toBe('secret');
  });
});
