/**
 * The manager paces registrations per address (`registrationsPerSecond`): a worker whose turn
 * comes later than its own handshake timeout still waits for it, instead of giving up the turn,
 * redialing and queueing again at the back.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Manager, SocketNode } from '../lib/index.js';
import { recordingLogger } from './support/recording-logger.js';

const KEYS = { publicKey: 'admission-e2e-public-key', privateKey: 'admission-e2e-private-key-0123456789abcdef' };

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('registration admission', () => {
  it('workers queued past their handshake timeout wait for their turn and register once each', async () => {
    const manager = new Manager({
      ...KEYS,
      port: 0,
      host: '127.0.0.1',
      discoveryPort: false,
      // One a second from 127.0.0.1, after a burst of one: the 3rd worker's turn is ~2 s away.
      registrationsPerSecond: 1,
      logger: recordingLogger(),
    });
    closers.push(() => manager.close());
    await manager.ready();
    let registrations = 0;
    manager.on('registered', () => registrations++);
    const logger = recordingLogger();
    const schema = { NodeB: { _allow: [], _connect: [], _commands: { _balanced: { ping: () => 'pong' } } } };
    const nodes = [1, 2, 3].map(
      (i) =>
        new SocketNode({
          worker: 'NodeB',
          variant: `b${i}`,
          schema,
          ...KEYS,
          ip: '127.0.0.1',
          port: manager.port,
          hostname: '127.0.0.1',
          handshakeTimeout: 1000,
          logger,
        }),
    );
    closers.push(() => Promise.all(nodes.map((n) => n.close())));
    const t0 = performance.now();
    await Promise.all(nodes.map((n) => n.ready()));
    const took = performance.now() - t0;
    // The pace was kept (the last turn came after about 2 s, longer than the 1 s handshake timeout) ...
    expect(took).toBeGreaterThan(1500);
    // ... and nobody gave up its turn: three registrations, no redial.
    expect(registrations).toBe(3);
    expect(logger.lines.filter((l) => /redialing|in time/.test(l.message))).toEqual([]);
  }, 20_000);
});
