/**
 * Frames from node:crypto and from libsodium are the same bytes: a worker forced onto one
 * ChaCha20-Poly1305 implementation calls a worker forced onto the other, both ways, with
 * frames small enough for libsodium and large enough for node:crypto in the default mode.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from './support/free-port.js';
import { assertFixtures, killAll, startManager, startWorker, stopAll, type WorkerHandle } from './support/mesh-process.js';

/** Starts a fixture with SOCKET_MESH_CRYPTO set for it alone (fork copies the environment). */
async function withCrypto<T>(mode: 'node' | 'sodium', start: () => Promise<T>): Promise<T> {
  const before = process.env.SOCKET_MESH_CRYPTO;
  process.env.SOCKET_MESH_CRYPTO = mode;
  try {
    return await start();
  } finally {
    if (before === undefined) delete process.env.SOCKET_MESH_CRYPTO;
    else process.env.SOCKET_MESH_CRYPTO = before;
  }
}

afterAll(async () => {
  await stopAll();
  await killAll();
}, 30_000);

describe('node:crypto and libsodium peers talk to each other', () => {
  let onNode: WorkerHandle;
  let onSodium: WorkerHandle;

  beforeAll(async () => {
    assertFixtures('plain');
    const port = await freePort();
    await withCrypto('node', () => startManager('plain', { port }));
    const manager = { host: '127.0.0.1', port };
    // Each worker both calls and serves the other, so every direction of every link is covered.
    onNode = await withCrypto('node', () =>
      startWorker('plain', { worker: 'NodeA', manager, advertiseHost: '127.0.0.1', allow: ['NodeB'], connect: ['NodeB'] }),
    );
    onSodium = await withCrypto('sodium', () =>
      startWorker('plain', { worker: 'NodeB', manager, advertiseHost: '127.0.0.1', allow: ['NodeA'], connect: ['NodeA'] }),
    );
    await onNode.waitForEvent('peer.connected', (p) => p.worker === 'NodeB' && p.direction === 'outgoing', 15_000);
    await onSodium.waitForEvent('peer.connected', (p) => p.worker === 'NodeA' && p.direction === 'outgoing', 15_000);
  }, 60_000);

  it.each([
    ['small', { text: 'x' }],
    ['16 KiB', { text: 'y'.repeat(16 * 1024) }],
  ])('a %s payload goes both ways', async (_label, payload) => {
    expect(await onNode.callOk('NodeB', 'echo', payload)).toEqual(payload);
    expect(await onSodium.callOk('NodeA', 'echo', payload)).toEqual(payload);
  });

  it('many calls in a row keep both counters in step', async () => {
    const payloads = Array.from({ length: 200 }, (_, i) => ({ i, pad: 'z'.repeat((i * 131) % 9000) }));
    const answers = await Promise.all(
      payloads.map((p, i) => (i % 2 ? onNode.callOk('NodeB', 'echo', p) : onSodium.callOk('NodeA', 'echo', p))),
    );
    expect(answers).toEqual(payloads);
  });
});
