/**
 * An accepting port answers the WebSocket upgrade in one write: the 101 with engine.io's open
 * packet (lib/core/admission/connection-gate.ts). The manager runs in its own process, so two
 * writes would usually reach this raw TCP client as two reads; one write of a few hundred bytes
 * on loopback always arrives as one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { within } from './support/hostile-client.js';
import { startManager, type ManagerHandle } from './support/mesh-process.js';

let manager: ManagerHandle;

beforeAll(async () => {
  manager = await startManager('plain', { logLevel: 'warn' });
}, 30_000);

afterAll(async () => {
  await manager?.stop();
});

/** Sends an upgrade request and resolves with the first read of the answer. */
function firstReadOfUpgrade(port: number): Promise<string> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const first = new Promise<string>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    socket.once('close', () => reject(new Error('closed before answering the upgrade')));
  });
  socket.write(
    'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return within(first, 5000, 'the answer to the upgrade').finally(() => socket.destroy());
}

describe('handshake writes', () => {
  it('the 101 and the engine.io open packet arrive in one read, connection after connection', async () => {
    for (let i = 0; i < 20; i++) {
      const answer = await firstReadOfUpgrade(manager.port);
      expect(answer).toContain('HTTP/1.1 101');
      expect(answer).toContain('0{"sid"');
    }
  });
});
