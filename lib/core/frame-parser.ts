import { Emitter } from '@socket.io/component-emitter';
import * as defaultParser from 'socket.io-parser';
import { Events } from './protocol.js';

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

type Packet = defaultParser.Packet;

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
    if (!isFramePacket(packet)) return this.fallback.encode(packet);
    const frame = packet.data[1];
    const out = Buffer.allocUnsafe(frame.length + 1);
    out[0] = FRAME_TAG;
    frame.copy(out, 1);
    return [out];
  }
}

function asBuffer(chunk: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

class Decoder extends Emitter<Record<string, never>, Record<string, never>, { decoded: (packet: Packet) => void }> {
  // No binary attachments: ours travel tagged, and the default parser would buffer them
  // (up to maxHttpBufferSize each) before anyone proved the keys.
  private readonly fallback = new defaultParser.Decoder({ maxAttachments: 0 });

  constructor() {
    super();
    this.fallback.on('decoded', (packet: Packet) => this.emitReserved('decoded', packet));
  }

  add(chunk: unknown): void {
    // A binary chunk is ours unless the default parser is in the middle of a binary packet.
    const reconstructing = (this.fallback as unknown as { reconstructor: unknown }).reconstructor;
    const buffer = typeof chunk === 'string' || reconstructing ? undefined : asBuffer(chunk);
    if (buffer && buffer.length > 0 && buffer[0] === FRAME_TAG) {
      this.emitReserved('decoded', { type: defaultParser.PacketType.EVENT, nsp: '/', data: [Events.FRAME, buffer.subarray(1)] });
      return;
    }
    this.fallback.add(chunk);
  }

  destroy(): void {
    this.fallback.destroy();
  }
}

/** Pass as `parser` to both the socket.io Server and the client: both ends must agree. */
export const frameParser = { protocol: defaultParser.protocol, Encoder, Decoder };
