import { createRequire } from 'node:module';
import type * as EmitterModule from '@socket.io/component-emitter';
import type * as SocketIoParser from 'socket.io-parser';
import { Events, FRAME_HEADROOM, type SealedFrame } from './protocol.js';

/**
 * A socket.io parser that sends each sealed frame as ONE binary WebSocket message.
 *
 * socket.io's default parser sends a Buffer argument as two messages (a text header with a
 * placeholder, then the attachment): for small calls that doubles the writes and the work on
 * both sides. Our frames are always `emit('f', buffer)` on the main namespace without an ack,
 * so they get a one-byte tag instead; everything else (handshake events, connect and
 * disconnect packets) still goes through the default parser unchanged.
 */
const FRAME_TAG = 0xf7;

// The CommonJS copy that socket.io and socket.io-client load (lazy-socket-io.ts): already in
// memory by the time this module is, where the ESM entries would load a second graph.
const require = createRequire(import.meta.url);
const defaultParser = require('socket.io-parser') as typeof SocketIoParser;
const { Emitter } = require('@socket.io/component-emitter') as typeof EmitterModule;

type Packet = SocketIoParser.Packet;

function isFramePacket(packet: Packet): packet is Packet & { data: [string, Buffer] } {
  return (
    packet.type === defaultParser.PacketType.EVENT &&
    packet.nsp === '/' &&
    packet.id === undefined &&
    Array.isArray(packet.data) &&
    packet.data.length === 2 &&
    packet.data[0] === Events.FRAME &&
    Buffer.isBuffer(packet.data[1])
  );
}

class Encoder {
  private readonly fallback = new defaultParser.Encoder();

  encode(packet: Packet): Array<string | Buffer> {
    if (!isFramePacket(packet)) return this.fallback.encode(packet) as Array<string | Buffer>;
    const frame = (packet.data as [string, SealedFrame])[1];
    if (frame[FRAME_HEADROOM] === true) {
      const tagged = Buffer.from(frame.buffer, frame.byteOffset - 1, frame.length + 1);
      tagged[0] = FRAME_TAG;
      return [tagged];
    }
    const out = Buffer.allocUnsafe(frame.length + 1);
    out[0] = FRAME_TAG;
    frame.copy(out, 1);
    return [out];
  }
}

/**
 * Whether an outgoing WebSocket message is one of our sealed frames (binary, starting with the
 * tag): its bytes after the tag are ciphertext (see sealed-frame-transport.ts).
 */
export function isSealedFrameMessage(data: unknown): boolean {
  return data instanceof Uint8Array && data.length > 0 && data[0] === FRAME_TAG;
}

function asBuffer(chunk: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

/**
 * Our frames are decoded here; every other packet goes to the default decoder. The one state
 * that needs is whether a binary chunk is an attachment the default decoder waits for: that
 * is read off the public wire format (socket.io protocol v5: a BINARY_EVENT or BINARY_ACK
 * header starts `5<n>-` or `6<n>-` and is followed by exactly n binary chunks), not off the
 * default decoder's private fields.
 */
class Decoder extends Emitter<Record<string, never>, Record<string, never>, { decoded: (packet: Packet) => void }> {
  /** Binary chunks still owed to the default decoder's current packet. */
  private attachmentsDue = 0;
  // No binary attachments: ours travel tagged, and the default parser would buffer them
  // (up to maxHttpBufferSize each) before anyone proved the keys.
  private readonly fallback = new defaultParser.Decoder({ maxAttachments: 0 });

  constructor() {
    super();
    this.fallback.on('decoded', (packet: Packet) => this.emitReserved('decoded', packet));
  }

  add(chunk: unknown): void {
    if (typeof chunk === 'string') {
      this.fallback.add(chunk); // throws on a malformed packet, before we count anything
      this.attachmentsDue = attachmentsOf(chunk);
      return;
    }
    if (this.attachmentsDue > 0) {
      this.attachmentsDue--;
      this.fallback.add(chunk);
      return;
    }
    const buffer = asBuffer(chunk);
    if (buffer && buffer.length > 0 && buffer[0] === FRAME_TAG) {
      this.emitReserved('decoded', { type: defaultParser.PacketType.EVENT, nsp: '/', data: [Events.FRAME, buffer.subarray(1)] });
      return;
    }
    this.fallback.add(chunk); // not ours and not expected: the default decoder refuses it
  }

  destroy(): void {
    this.attachmentsDue = 0;
    this.fallback.destroy();
  }
}

/** Attachments announced by a packet header the default decoder accepted (0 for a plain packet). */
function attachmentsOf(header: string): number {
  const type = (header.charCodeAt(0) - 48) as SocketIoParser.PacketType;
  if (type !== defaultParser.PacketType.BINARY_EVENT && type !== defaultParser.PacketType.BINARY_ACK) return 0;
  return Number(header.slice(1, header.indexOf('-')));
}

/** Pass as `parser` to both the socket.io Server and the client: both ends must agree. */
export const frameParser = { protocol: defaultParser.protocol, Encoder, Decoder };
