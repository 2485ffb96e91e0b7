import { describe, expect, it } from '@jest/globals';
import * as defaultParser from 'socket.io-parser';
import { frameParser } from '../lib/core/frame-parser.js';
import { Events } from '../lib/core/protocol.js';

type Packet = defaultParser.Packet;
const { EVENT, CONNECT } = defaultParser.PacketType;

/** Encodes with our encoder and feeds every chunk to one decoder; returns what it emitted. */
function roundTrip(packets: Packet[], decoder = new frameParser.Decoder()): Packet[] {
  const out: Packet[] = [];
  decoder.on('decoded', (p: Packet) => out.push(p));
  const encoder = new frameParser.Encoder();
  for (const packet of packets) for (const chunk of encoder.encode(packet)) decoder.add(chunk);
  return out;
}

const frameOf = (bytes: number[]) => Buffer.from(bytes);
const framePacket = (frame: Buffer): Packet => ({ type: EVENT, nsp: '/', data: [Events.FRAME, frame] });

describe('frameParser', () => {
  it('sends a sealed frame as one tagged binary message and decodes it back', () => {
    const frame = frameOf([0xf7, 1, 2, 3, 0]);
    const chunks = new frameParser.Encoder().encode(framePacket(frame));
    expect(chunks).toHaveLength(1);
    expect(Buffer.isBuffer(chunks[0])).toBe(true);
    expect((chunks[0] as Buffer)[0]).toBe(0xf7);
    const [decoded] = roundTrip([framePacket(frame)]);
    expect(decoded).toEqual({ type: EVENT, nsp: '/', data: [Events.FRAME, frame] });
  });

  it('accepts a frame delivered as an ArrayBuffer or a Uint8Array view', () => {
    const decoder = new frameParser.Decoder();
    const out: Packet[] = [];
    decoder.on('decoded', (p: Packet) => out.push(p));
    const bytes = Uint8Array.from([0xf7, 9, 8, 7]);
    decoder.add(bytes.buffer.slice(0));
    decoder.add(new Uint8Array(Uint8Array.from([0, 0xf7, 9, 8, 7]).buffer, 1, 4));
    expect(out.map((p) => [...((p.data as unknown[])[1] as Buffer)])).toEqual([
      [9, 8, 7],
      [9, 8, 7],
    ]);
  });

  it('leaves text packets to the default parser, and refuses binary attachments (none is legitimate: frames travel tagged)', () => {
    const packets: Packet[] = [
      { type: CONNECT, nsp: '/', data: { token: 'x' } },
      { type: EVENT, nsp: '/', data: ['hello', { a: 1 }] },
    ];
    expect(roundTrip(packets)).toEqual(packets);
    const encoder = new frameParser.Encoder();
    // A Buffer outside a frame goes out as the default encoder's header + attachment...
    const attached: Packet = { type: EVENT, nsp: '/', id: 7, data: [Events.FRAME, Buffer.from([1])] };
    expect(encoder.encode(attached)).toHaveLength(2);
    // ...which a receiver refuses at the header, before buffering any attachment.
    expect(() => roundTrip([attached])).toThrow(/attachments/);
  });

  it('frames around a refused attachment header stay frames', () => {
    const decoder = new frameParser.Decoder();
    const out: Packet[] = [];
    decoder.on('decoded', (p: Packet) => out.push(p));
    decoder.add(Buffer.from([0xf7, 1]));
    expect(() => decoder.add('51-["blob",{"_placeholder":true,"num":0}]')).toThrow(/attachments/);
    decoder.add(Buffer.from([0xf7, 2]));
    expect(out).toEqual([framePacket(Buffer.from([1])), framePacket(Buffer.from([2]))]);
  });

  it('refuses an untagged binary message nobody waits for', () => {
    const decoder = new frameParser.Decoder();
    expect(() => decoder.add(Buffer.from([1, 2, 3]))).toThrow();
    expect(() => decoder.add(Buffer.alloc(0))).toThrow();
  });

  it('refuses a malformed binary header without losing track: the next frame is still a frame', () => {
    const decoder = new frameParser.Decoder();
    const out: Packet[] = [];
    decoder.on('decoded', (p: Packet) => out.push(p));
    expect(() => decoder.add('5abc-["x",{"_placeholder":true,"num":0}]')).toThrow();
    expect(() => decoder.add('5999-["x",{"_placeholder":true,"num":0}]')).toThrow();
    decoder.add(Buffer.from([0xf7, 5]));
    expect(out).toEqual([framePacket(Buffer.from([5]))]);
  });

  it('after destroy() a new packet starts clean', () => {
    const decoder = new frameParser.Decoder();
    const out: Packet[] = [];
    decoder.on('decoded', (p: Packet) => out.push(p));
    decoder.add(Buffer.from([0xf7, 5]));
    decoder.destroy();
    decoder.add(Buffer.from([0xf7, 6]));
    expect(out).toEqual([framePacket(Buffer.from([5])), framePacket(Buffer.from([6]))]);
  });
});
