import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket as TcpSocket,
} from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { frameParser } from '../lib/core/frame-parser.js';
import { Events } from '../lib/core/protocol.js';
import { SealedFrameWebSocket } from '../lib/core/sealed-frame-transport.js';
import { waitFor } from './support/wait-for.js';

interface WsFrame {
  opcode: number;
  maskKey: Buffer;
  /** As sent on the wire (still masked). */
  wirePayload: Buffer;
  payload: Buffer;
}

/** The WebSocket frames a client sent, read off the raw bytes after its HTTP upgrade request. */
function clientFrames(bytes: Buffer): WsFrame[] {
  let at = bytes.indexOf('\r\n\r\n') + 4;
  const frames: WsFrame[] = [];
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at] & 0x0f;
    let length = bytes[at + 1] & 0x7f;
    let head = 2;
    if (length === 126) [length, head] = [bytes.readUInt16BE(at + 2), 4];
    else if (length === 127) [length, head] = [Number(bytes.readBigUInt64BE(at + 2)), 10];
    expect(bytes[at + 1] & 0x80).toBe(0x80); // a client frame always carries a masking key
    const maskKey = bytes.subarray(at + head, at + head + 4);
    const wirePayload = bytes.subarray(at + head + 4, at + head + 4 + length);
    if (wirePayload.length < length) break;
    const payload = Buffer.from(wirePayload.map((b, i) => b ^ maskKey[i & 3]));
    frames.push({ opcode, maskKey, wirePayload, payload });
    at += head + 4 + length;
  }
  return frames;
}

describe('SealedFrameWebSocket', () => {
  let http: HttpServer | undefined;
  let server: Server | undefined;
  let relay: TcpServer | undefined;
  let client: Socket | undefined;
  const relayed: TcpSocket[] = [];

  afterEach(async () => {
    client?.close();
    for (const s of relayed) s.destroy();
    relayed.length = 0;
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? void server.close(() => resolve()) : resolve()));
    [http, server, relay, client] = [undefined, undefined, undefined, undefined];
  });

  it('sends sealed frames with an all-zero masking key and everything else with a random one; the server reads both', async () => {
    http = createHttpServer();
    server = new Server(http, { transports: ['websocket'], parser: frameParser, perMessageDeflate: false });
    const received: { frames: Buffer[]; texts: unknown[] } = { frames: [], texts: [] };
    server.on('connection', (socket) => {
      socket.on(Events.FRAME, (frame: Buffer) => received.frames.push(Buffer.from(frame)));
      socket.on('note', (text: unknown) => received.texts.push(text));
    });
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const serverPort = (http.address() as AddressInfo).port;

    // A relay between client and server that keeps the bytes the client sends.
    const upstream: Buffer[] = [];
    relay = createTcpServer((inbound) => {
      const outbound = connect(serverPort, '127.0.0.1');
      relayed.push(inbound, outbound);
      inbound.on('data', (chunk: Buffer) => upstream.push(chunk));
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => relay!.listen(0, '127.0.0.1', resolve));

    client = io(`http://127.0.0.1:${(relay.address() as AddressInfo).port}`, {
      transports: [SealedFrameWebSocket],
      parser: frameParser,
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      client!.once('connect', resolve);
      client!.once('connect_error', reject);
    });
    const sealed = [Buffer.alloc(200, 0x5a), Buffer.from([1, 2, 3])];
    for (const frame of sealed) client.emit(Events.FRAME, frame);
    client.emit('note', 'in clear');
    await waitFor(
      () => received.frames.length === 2 && received.texts.length === 1,
      5000,
      'the frames and the note at the server',
    );

    expect(received.frames).toEqual(sealed);
    expect(received.texts).toEqual(['in clear']);
    const frames = clientFrames(Buffer.concat(upstream));
    const binary = frames.filter((f) => f.opcode === 0x2);
    const text = frames.filter((f) => f.opcode === 0x1);
    expect(binary).toHaveLength(2);
    for (const [i, f] of binary.entries()) {
      expect([...f.maskKey]).toEqual([0, 0, 0, 0]);
      expect(f.wirePayload).toEqual(Buffer.concat([Buffer.from([0xf7]), sealed[i]]));
    }
    // socket.io's CONNECT and the note (at least): keys from the CSPRNG, never all zero.
    expect(text.length).toBeGreaterThanOrEqual(2);
    for (const f of text) expect(f.maskKey.readUInt32BE(0)).not.toBe(0);
    expect(text.map((f) => f.payload.toString())).toContain('42["note","in clear"]');
  });
});
