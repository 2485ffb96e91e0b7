import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { FrameSealer } from '../lib/core/crypto/frame-cipher.js';
import { HandshakeInitiator, HandshakeResponder, type SessionKeys } from '../lib/core/crypto/handshake.js';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';
import { Events } from '../lib/core/protocol.js';
import { SecureChannel, type FrameSocket } from '../lib/core/secure-channel.js';

/**
 * In-memory stand-in for one end of a socket.io connection: emit() delivers to the other end
 * on a later turn (setImmediate), like a network would. This tests framing, not socket.io.
 */
class FakeSocket implements FrameSocket {
  private readonly inbox = new EventEmitter();
  peer?: FakeSocket;
  /** Every emit, in order (what went on the wire). */
  readonly sent: Array<{ event: string; args: unknown[] }> = [];
  disconnects = 0;
  /** Optional man-in-the-middle: return what to deliver instead (or undefined to drop). */
  tamper?: (frame: unknown) => unknown;

  emit(event: string, ...args: unknown[]): boolean {
    this.sent.push({ event, args });
    const peer = this.peer;
    if (peer) {
      setImmediate(() => {
        const payload = this.tamper ? this.tamper(args[0]) : args[0];
        if (payload !== undefined) peer.deliver(event, payload);
      });
    }
    return true;
  }

  /** Delivers an incoming event now, synchronously (also used to inject hostile frames). */
  deliver(event: string, ...args: unknown[]): void {
    this.inbox.emit(event, ...args);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the FrameSocket contract, which mirrors socket.io's listener type
  on(event: string, listener: (...args: any[]) => void): this {
    this.inbox.on(event, listener);
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the FrameSocket contract, which mirrors socket.io's listener type
  off(event: string, listener: (...args: any[]) => void): this {
    this.inbox.off(event, listener);
    return this;
  }

  disconnect(): this {
    this.disconnects++;
    return this;
  }

  listenerCount(event: string): number {
    return this.inbox.listenerCount(event);
  }

  frames(): Buffer[] {
    return this.sent.filter((s) => s.event === Events.FRAME).map((s) => s.args[0] as Buffer);
  }
}

function socketPair(): [FakeSocket, FakeSocket] {
  const a = new FakeSocket();
  const b = new FakeSocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function sessionPair(): [SessionKeys, SessionKeys] {
  const up = randomBytes(32);
  const down = randomBytes(32);
  return [
    { sendKey: up, receiveKey: down },
    { sendKey: down, receiveKey: up },
  ];
}

/** One side of a connection under test, recording what it receives. */
class End {
  readonly messages: unknown[][] = [];
  readonly violations: string[] = [];
  readonly channel: SecureChannel;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private violationWaiters: Array<() => void> = [];

  constructor(
    readonly socket: FakeSocket,
    session: SessionKeys,
    maxFrameSize = 64 * 1024,
  ) {
    this.channel = new SecureChannel(socket, session, {
      maxFrameSize,
      onMessage: (message) => {
        this.messages.push(message);
        this.waiters = this.waiters.filter((w) => (this.messages.length >= w.count ? (w.resolve(), false) : true));
      },
      onViolation: (reason) => {
        this.violations.push(reason);
        for (const resolve of this.violationWaiters.splice(0)) resolve();
      },
    });
  }

  /** Resolves once `count` messages in total have arrived; fails after a deadline instead of hanging. */
  received(count: number, deadlineMs = 2000): Promise<unknown[][]> {
    if (this.messages.length >= count) return Promise.resolve(this.messages);
    return withDeadline(
      new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
      deadlineMs,
      `expected ${count} messages, got ${this.messages.length}`,
    ).then(() => this.messages);
  }

  violated(deadlineMs = 2000): Promise<string> {
    if (this.violations.length > 0) return Promise.resolve(this.violations[0]);
    return withDeadline(
      new Promise<void>((resolve) => this.violationWaiters.push(resolve)),
      deadlineMs,
      'expected a violation',
    ).then(() => this.violations[0]);
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `socket` has emitted `count` frames and the delivery of the last one (queued with
 * setImmediate at emit time) has run. Polls on event-loop turns, not on wall-clock sleeps.
 */
function delivered(socket: FakeSocket, count: number, deadlineMs = 2000): Promise<void> {
  return withDeadline(
    new Promise<void>((resolve) => {
      const check = () => (socket.frames().length >= count ? setImmediate(resolve) : setImmediate(check));
      check();
    }),
    deadlineMs,
    `${count} frames to be delivered`,
  );
}

function connected(maxFrameSize?: number): [End, End] {
  const [sa, sb] = socketPair();
  const [ka, kb] = sessionPair();
  return [new End(sa, ka, maxFrameSize), new End(sb, kb, maxFrameSize)];
}

/** A channel B plus a test-side sealer holding the key B receives with, to craft authentic frames. */
function receiverWithForger(maxFrameSize?: number) {
  const [, sb] = socketPair();
  const [ka, kb] = sessionPair();
  const b = new End(sb, kb, maxFrameSize);
  const forger = new FrameSealer(ka.sendKey);
  const frameOf = (value: unknown) => forger.seal(Buffer.from(JSON.stringify(value)));
  return { b, frameOf };
}

function expectMeshError(fn: () => unknown, code: MeshErrorCode): MeshError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MeshError);
  expect((caught as MeshError).code).toBe(code);
  return caught as MeshError;
}

const msg = (...parts: unknown[]) => JSON.stringify(parts);

describe('SecureChannel: framing', () => {
  it('coalesces messages sent in one turn into one frame, delivered in order as arrays', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'first'));
    a.channel.send(msg(2, 'second', { x: 1 }));
    a.channel.send(msg(3, 'third', [1, 2, 3]));
    expect(a.socket.frames()).toHaveLength(0); // nothing written until the turn ends
    const got = await b.received(3);
    expect(a.socket.frames()).toHaveLength(1);
    expect(a.socket.sent.every((s) => s.event === Events.FRAME)).toBe(true);
    expect(Buffer.isBuffer(a.socket.frames()[0])).toBe(true);
    expect(got).toEqual([
      [1, 'first'],
      [2, 'second', { x: 1 }],
      [3, 'third', [1, 2, 3]],
    ]);
    expect(b.violations).toEqual([]);
  });

  it('lets the first frame of a busy turn leave after 32 messages and coalesces the rest, in order', async () => {
    const [a, b] = connected();
    for (let i = 0; i < 32; i++) a.channel.send(msg(i));
    expect(a.socket.frames()).toHaveLength(0); // 32 wait for the turn's end or a 33rd
    for (let i = 32; i < 100; i++) a.channel.send(msg(i));
    expect(a.socket.frames()).toHaveLength(1); // the first 32 left at once: the peer can start on them
    const got = await b.received(100);
    expect(a.socket.frames()).toHaveLength(2); // the other 68 in one frame at the turn's end
    expect(got.map((m) => m[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // The next turn again holds its first 32.
    for (let i = 0; i < 33; i++) a.channel.send(msg(i));
    expect(a.socket.frames()).toHaveLength(3);
    await b.received(133);
    expect(a.socket.frames()).toHaveLength(4);
  });

  it('sends messages of a later turn in a new frame, and keeps order across frames', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'a'));
    await b.received(1);
    a.channel.send(msg(2, 'b'));
    a.channel.send(msg(3, 'c'));
    const got = await b.received(3);
    expect(a.socket.frames()).toHaveLength(2);
    expect(got.map((m) => m[0])).toEqual([1, 2, 3]);
  });

  it('works in both directions at once', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'from a'));
    b.channel.send(msg(2, 'from b'));
    expect(await b.received(1)).toEqual([[1, 'from a']]);
    expect(await a.received(1)).toEqual([[2, 'from b']]);
  });

  it('never puts the plaintext on the wire', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'very-secret-payload'));
    await b.received(1);
    expect(a.socket.frames()[0].includes(Buffer.from('very-secret-payload'))).toBe(false);
  });

  it('carries multibyte text intact', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'grüße, 世界 🌍'));
    expect(await b.received(1)).toEqual([[1, 'grüße, 世界 🌍']]);
  });

  it('runs over session keys from a real handshake', async () => {
    const keys = deriveMeshKeys('mesh-public', 'mesh-secret-0123456789-abcdefghijklmnop');
    const initiator = new HandshakeInitiator(keys, { role: 'caller', worker: 'A', variant: 'a' });
    const responder = new HandshakeResponder(keys, { role: 'callee', worker: 'B', variant: 'b' }, initiator.hello);
    const { proof, session: clientSession } = initiator.onServerHello(responder.hello);
    const serverSession = responder.onProof(proof);
    const [sa, sb] = socketPair();
    const a = new End(sa, clientSession);
    const b = new End(sb, serverSession);
    a.channel.send(msg(1, 'ping'));
    b.channel.send(msg(2, 'pong'));
    expect(await b.received(1)).toEqual([[1, 'ping']]);
    expect(await a.received(1)).toEqual([[2, 'pong']]);
  });
});

describe('SecureChannel: size limits', () => {
  it('send() throws MESH_BAD_REQUEST for a message over maxFrameSize, writes nothing and stays usable', async () => {
    const [a, b] = connected(1024);
    const err = expectMeshError(() => a.channel.send(msg(1, 'x'.repeat(1024))), MeshErrorCode.BAD_REQUEST);
    expect(err.message).toMatch(/exceeds the maximum frame size of 1024 bytes/);
    expect(a.channel.isClosed).toBe(false);
    a.channel.send(msg(2, 'small'));
    expect(await b.received(1)).toEqual([[2, 'small']]);
    expect(a.socket.frames()).toHaveLength(1);
  });

  it('measures the limit in UTF-8 bytes, not string length', () => {
    const [a] = connected(1024);
    const json = msg(1, '€'.repeat(400)); // ~410 chars, ~1210 bytes
    expect(json.length).toBeLessThan(1024);
    expectMeshError(() => a.channel.send(json), MeshErrorCode.BAD_REQUEST);
  });

  it('splits many messages that together exceed maxFrameSize into several frames within the limit', async () => {
    const max = 1024;
    const [a, b] = connected(max);
    const count = 60;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const json = msg(i, 'y'.repeat(80 + (i % 7) * 10));
      total += Buffer.byteLength(json);
      a.channel.send(json);
    }
    const got = await b.received(count);
    const frames = a.socket.frames();
    expect(total).toBeGreaterThan(3 * max);
    expect(frames.length).toBeGreaterThanOrEqual(Math.ceil(total / max));
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(max + 64); // tag and batch brackets ride on top of the message limit;
    expect(got.map((m) => m[0])).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(b.violations).toEqual([]);
  });

  it('never exceeds the limit with messages close to the limit', async () => {
    const max = 2048;
    const [a, b] = connected(max);
    const sizes = [1900, 10, 1500, 600, 1900, 1, 1980 - 64];
    sizes.forEach((n, i) => a.channel.send(msg(i, 'z'.repeat(Math.max(0, n - 10)))));
    await b.received(sizes.length);
    for (const frame of a.socket.frames()) expect(frame.length).toBeLessThanOrEqual(max);
    expect(b.messages.map((m) => m[0])).toEqual(sizes.map((_, i) => i));
  });
});

describe('SecureChannel: hostile input', () => {
  async function expectViolation(end: End, pattern: RegExp) {
    expect(await end.violated()).toMatch(pattern);
    expect(end.violations).toHaveLength(1);
    expect(end.socket.disconnects).toBe(1);
    expect(end.channel.isClosed).toBe(true);
    expect(end.socket.listenerCount(Events.FRAME)).toBe(0);
  }

  it('a tampered frame: violation once, socket disconnected, later frames ignored', async () => {
    const [a, b] = connected();
    a.socket.tamper = (frame) => {
      const copy = Buffer.from(frame as Buffer);
      copy[0] ^= 0x01;
      return copy;
    };
    a.channel.send(msg(1, 'tampered'));
    await expectViolation(b, /failed authentication/);
    // Genuine traffic afterwards is ignored.
    a.socket.tamper = undefined;
    a.channel.send(msg(2, 'later'));
    await delivered(a.socket, 2);
    expect(b.messages).toEqual([]);
    expect(b.violations).toHaveLength(1);
    expect(b.socket.disconnects).toBe(1);
  });

  it('a replayed frame: violation once and disconnect', async () => {
    const { b, frameOf } = receiverWithForger();
    const first = frameOf([[1, 'once']]);
    b.socket.deliver(Events.FRAME, first);
    expect(b.messages).toEqual([[1, 'once']]);
    b.socket.deliver(Events.FRAME, first);
    await expectViolation(b, /failed authentication/);
    expect(b.messages).toHaveLength(1);
  });

  it('reordered frames: violation once and disconnect', async () => {
    const { b, frameOf } = receiverWithForger();
    const first = frameOf([[1, 'one']]);
    const second = frameOf([[2, 'two']]);
    b.socket.deliver(Events.FRAME, second);
    b.socket.deliver(Events.FRAME, first);
    await expectViolation(b, /failed authentication/);
    // Even the frame that would now authenticate (#0) was ignored: the channel is closed.
    expect(b.messages).toEqual([]);
  });

  it.each([
    ['random garbage', () => randomBytes(200), /failed authentication/],
    ['an empty buffer', () => Buffer.alloc(0), /failed authentication/],
    ['a string', () => 'not a frame', /not binary/],
    ['a number', () => 42, /not binary/],
    ['null', () => null, /not binary/],
    ['an ArrayBuffer', () => new ArrayBuffer(64), /not binary/],
    ['a plain object', () => ({ type: 'Buffer', data: [1, 2, 3] }), /not binary/],
  ])('%s: violation once, disconnect, and the next authentic frame is ignored', async (_label, make, pattern) => {
    const { b, frameOf } = receiverWithForger(1024);
    const genuine = frameOf([[1, 'genuine']]); // counter 0: would open if the channel were still reading
    b.socket.deliver(Events.FRAME, make());
    await expectViolation(b, pattern);
    b.socket.deliver(Events.FRAME, genuine);
    b.socket.deliver(Events.FRAME, randomBytes(50));
    expect(b.messages).toEqual([]);
    expect(b.violations).toHaveLength(1);
    expect(b.socket.disconnects).toBe(1);
  });

  it('an oversized frame is refused before decryption: violation once, disconnect', async () => {
    const max = 1024;
    const { b, frameOf } = receiverWithForger(max);
    // Authentic, but far bigger than the receiver accepts.
    const big = frameOf([[1, 'w'.repeat(2 * max)]]);
    b.socket.deliver(Events.FRAME, big);
    await expectViolation(b, /exceeds the limit of 1024/);
    expect(b.messages).toEqual([]);
  });

  it.each([
    ['an object instead of a batch', { not: 'a batch' }, /does not hold a message batch/],
    ['a number instead of a batch', 7, /does not hold a message batch/],
    ['a batch with a non-array message', ['hello'], /malformed message/],
    ['a batch whose message has no numeric type', [['1', 'x']], /malformed message/],
  ])('an authentic frame holding %s: violation once, disconnect', async (_label, value, pattern) => {
    const { b, frameOf } = receiverWithForger();
    b.socket.deliver(Events.FRAME, frameOf(value));
    await expectViolation(b, pattern);
    expect(b.messages).toEqual([]);
  });

  it('an authentic frame that is not JSON: violation once, disconnect', async () => {
    const [, sb] = socketPair();
    const [ka, kb] = sessionPair();
    const b = new End(sb, kb);
    b.socket.deliver(Events.FRAME, new FrameSealer(ka.sendKey).seal(Buffer.from('[[1,')));
    await expectViolation(b, /failed authentication/);
  });

  it('a malformed message mid-batch: the messages before it are delivered, the rest are not', async () => {
    const { b, frameOf } = receiverWithForger();
    b.socket.deliver(Events.FRAME, frameOf([[1, 'ok'], 'bad', [3, 'after']]));
    await expectViolation(b, /malformed message/);
    expect(b.messages).toEqual([[1, 'ok']]);
  });

  it('drops its own queued messages and refuses to send after a violation', async () => {
    const [a, b] = connected();
    b.channel.send(msg(1, 'queued before the violation'));
    b.socket.deliver(Events.FRAME, randomBytes(100));
    await expectViolation(b, /failed authentication/);
    await withDeadline(new Promise((resolve) => setImmediate(resolve)), 1000, 'a turn');
    expect(b.socket.frames()).toHaveLength(0);
    expectMeshError(() => b.channel.send(msg(2, 'x')), MeshErrorCode.PEER_DISCONNECTED);
    expect(a.messages).toEqual([]);
  });
});

describe('SecureChannel: close', () => {
  it('close() flushes pending messages first, then stops', async () => {
    const [a, b] = connected();
    a.channel.send(msg(1, 'a'));
    a.channel.send(msg(2, 'b'));
    a.channel.send(msg(3, 'c'));
    a.channel.close();
    expect(a.socket.frames()).toHaveLength(1); // flushed synchronously by close()
    expect(a.channel.isClosed).toBe(true);
    expect(await b.received(3)).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    expectMeshError(() => a.channel.send(msg(4, 'd')), MeshErrorCode.PEER_DISCONNECTED);
    expect(a.socket.frames()).toHaveLength(1);
    expect(a.socket.disconnects).toBe(0); // close() does not close the socket
  });

  it('a closed channel ignores incoming frames and does not report them as violations', async () => {
    const [a, b] = connected();
    a.channel.close();
    expect(a.socket.listenerCount(Events.FRAME)).toBe(0);
    b.channel.send(msg(1, 'to a closed channel'));
    await delivered(b.socket, 1);
    expect(a.messages).toEqual([]);
    expect(a.violations).toEqual([]);
    expect(a.socket.disconnects).toBe(0);
  });

  it('close() is idempotent', () => {
    const [a] = connected();
    a.channel.send(msg(1, 'x'));
    a.channel.close();
    a.channel.close();
    expect(a.socket.frames()).toHaveLength(1);
  });
});
