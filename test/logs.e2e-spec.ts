/**
 * What the mesh logs, through a recording logger: the start line, draining start and end,
 * connection errors with their cause (ECONNREFUSED, not "websocket error"), and a repeating
 * failure logged when it starts, at rising intervals, and when it ends. Real sockets on 127.0.0.1.
 */
import { describe, expect, it } from '@jest/globals';
import { io } from 'socket.io-client';
import { describeConnectError } from '../lib/core/connect-error.js';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { FailureLog, formatDuration } from '../lib/core/failure-log.js';
import { Manager } from '../lib/core/manager.js';
import { PeerLink } from '../lib/core/peer-link.js';
import type { MeshSchema } from '../lib/core/schema.js';
import { SocketNode } from '../lib/core/socket-node.js';
import { closeAfterEach } from './support/close-after-each.js';
import { freePort } from './support/free-port.js';
import { TEST_KEYS } from './support/mesh-process.js';
import { recordingLogger } from './support/recording-logger.js';
import { waitFor } from './support/wait-for.js';

const { publicKey, privateKey } = TEST_KEYS;

const track = closeAfterEach();

const schema: MeshSchema = {
  NodeA: { _connect: ['NodeB'] },
  NodeB: {
    _allow: ['NodeA'],
    _commands: {
      _balanced: { status: () => 'ok' },
      _broadcast: { note: { queued: true, method: () => undefined } },
    },
  },
};

describe('FailureLog: a repeating failure', () => {
  it('is logged when it starts, at 10 s, 60 s, 10 min and hourly into it, and when it ends', () => {
    const logger = recordingLogger();
    let now = 1_000_000;
    const log = new FailureLog(logger, { now: () => now });
    const at = (ms: number) => {
      now = 1_000_000 + ms;
      log.failed('cannot reach X: ECONNREFUSED');
    };
    // One attempt a second for two and a half hours.
    for (let s = 0; s <= 9000; s++) at(s * 1000);
    const warned = logger.at('warn');
    expect(warned[0]).toBe('cannot reach X: ECONNREFUSED');
    expect(warned.slice(1)).toEqual([
      'still failing after 11 attempts / 10 s: cannot reach X: ECONNREFUSED',
      'still failing after 61 attempts / 1 min: cannot reach X: ECONNREFUSED',
      'still failing after 601 attempts / 10 min: cannot reach X: ECONNREFUSED',
      'still failing after 3601 attempts / 1 h: cannot reach X: ECONNREFUSED',
      'still failing after 7201 attempts / 2 h: cannot reach X: ECONNREFUSED',
    ]);
    expect(logger.at('debug')).toHaveLength(9001 - 6);
    now += 12_000;
    log.succeeded('X reachable');
    expect(logger.at('info')).toEqual(['X reachable again after 9001 failed attempts / 2 h 30 min']);
    // A success without a failure before says nothing; a new outage starts over.
    log.succeeded('X reachable');
    log.failed('again');
    expect(logger.at('info')).toHaveLength(1);
    expect(logger.at('warn').at(-1)).toBe('again');
  });

  it('formats durations for people', () => {
    expect([850, 12_000, 200_000, 3_900_000].map(formatDuration)).toEqual(['850 ms', '12 s', '3 min 20 s', '1 h 5 min']);
  });
});

describe('logs of a node', () => {
  it('a refused connection names ECONNREFUSED; the recovery is logged with attempts and time', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const node = track(new SocketNode({ port, ip: '127.0.0.1', worker: 'NodeA', schema, publicKey, privateKey, logger }));
    await waitFor(() => logger.at('warn').length > 0, 5000, 'the first failure line');
    const first = logger.at('warn')[0]!;
    expect(first).toMatch(new RegExp(`cannot reach the manager at http://127.0.0.1:${port}: ECONNREFUSED`));
    expect(first).not.toMatch(/websocket error/);
    // Further attempts while it is down go to DEBUG, not WARN.
    await waitFor(() => logger.at('debug').some((l) => l.includes('ECONNREFUSED')), 10_000, 'a second attempt');
    expect(logger.at('warn')).toHaveLength(1);

    track(new Manager({ schema, publicKey, privateKey, port, host: '127.0.0.1', logLevel: 'silent' }));
    await node.ready();
    const recovered = await waitFor(
      () => logger.at('info').find((l) => l.includes('reachable again')),
      5000,
      'the recovery line',
    );
    expect(recovered).toMatch(
      new RegExp(`^the manager at 127.0.0.1:${port} is reachable again after \\d+ failed attempts? / \\d+`),
    );
  });

  it('one line at start (worker, variant, mesh port, manager, queue backend); one when draining starts and one when it ends', async () => {
    const port = await freePort();
    track(new Manager({ schema, publicKey, privateKey, port, host: '127.0.0.1', logLevel: 'silent' }));
    const logger = recordingLogger();
    const node = new SocketNode({ port, ip: '127.0.0.1', worker: 'NodeB', schema, publicKey, privateKey, logger });
    await node.ready();
    const start = logger.at('info').filter((l) => l.startsWith('started worker'));
    expect(start).toEqual([
      `started worker NodeB, variant ${node.variant}, mesh port ${node.meshServer.port}, manager 127.0.0.1:${port}, queue backend memory (1 queued command)`,
    ]);
    await node.close();
    const lines = logger.at('info');
    const drainStart = lines.findIndex((l) => l === `NodeB/${node.variant} draining: 0 request(s) running`);
    const drainEnd = lines.findIndex((l) => new RegExp(`^NodeB/${node.variant} drained and closed in \\d+ (ms|s)$`).test(l));
    expect(drainStart).toBeGreaterThanOrEqual(0);
    expect(drainEnd).toBeGreaterThan(drainStart);
  });

  it("describeConnectError digs the cause out of socket.io-client's connect_error", async () => {
    const port = await freePort();
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(err.message).toBe('websocket error'); // what socket.io-client says on its own
    expect(describeConnectError(err)).toBe(`ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('a peer link that cannot connect says why once, then at rising intervals only', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const link = new PeerLink(
      { worker: 'NodeB', variant: 'b-1', host: '127.0.0.1', port, commands: {} },
      {
        self: { worker: 'NodeA', variant: 'a-1' },
        keys: deriveMeshKeys(publicKey, privateKey),
        logger,
        maxFrameSize: 1 << 20,
        maxPending: 10,
        heartbeat: { interval: 2000, timeout: 2500 },
      },
    );
    try {
      await waitFor(
        () => logger.at('debug').filter((l) => l.includes('failed to connect')).length >= 2,
        10_000,
        'three attempts',
      );
      expect(logger.at('warn')).toEqual([
        `link to NodeB/b-1 failed to connect: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})`,
      ]);
    } finally {
      link.close();
    }
  });
});
