/**
 * Hostile clients for the security suites: raw socket.io-client sockets, raw `ws` WebSockets,
 * raw TCP, and a key-holding client that runs the real handshake with the core crypto classes
 * and then writes whatever frames a test wants (replays, bit flips, garbage, lies).
 *
 * Nothing here sleeps: every wait is on an event with a deadline.
 */
import { frameParser } from '../../lib/core/frame-parser.js';
import { EventEmitter } from 'node:events';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { io, type Socket as IoSocket } from 'socket.io-client';
import WebSocket from 'ws';
import { FrameOpener, FrameSealer } from '../../lib/core/crypto/frame-cipher.js';
import {
  HandshakeInitiator,
  type HandshakeIdentity,
  type HelloMessage,
  type ProofMessage,
} from '../../lib/core/crypto/handshake.js';
import type { MeshKeys } from '../../lib/core/crypto/mesh-keys.js';
import type { SerializedMeshError } from '../../lib/core/errors.js';
import type { MeshLogger } from '../../lib/core/logger.js';
import { Events, Msg } from '../../lib/core/protocol.js';

// ---------------------------------------------------------------------------------------------
// Deadlines

/**
 * A microtask hop. Jest's --detectOpenHandles charges every synchronous crypto job
 * (generateKeyPairSync, hkdfSync) started on a test's own synchronous stack to that test and
 * reports it as an open handle until V8 happens to collect it. Code that creates keys first
 * hops off the test's stack, so the report stays about real handles (sockets, servers, timers).
 */
export async function offTestStack(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/await-thenable -- the point: one microtask hop
  await null;
}

// ---------------------------------------------------------------------------------------------
// Logs

export interface LogLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** A MeshLogger that keeps every line, so a test can count what one attack made a process log. */
export class CapturingLogger implements MeshLogger {
  readonly lines: LogLine[] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  trace(message: string): void {
    this.push('trace', message);
  }
  debug(message: string): void {
    this.push('debug', message);
  }
  info(message: string): void {
    this.push('info', message);
  }
  warn(message: string): void {
    this.push('warn', message);
  }
  error(message: string): void {
    this.push('error', message);
  }

  /** A position to count from. */
  mark(): number {
    return this.lines.length;
  }

  /** Warnings and errors logged since `mark`. */
  problemsSince(mark: number): LogLine[] {
    return this.lines.slice(mark).filter((l) => l.level === 'warn' || l.level === 'error');
  }

  /** Resolves with the first line (already logged since `mark`, or to come) matching `pattern`. */
  waitForLine(pattern: RegExp | string, mark: number, ms: number): Promise<LogLine> {
    const matches = (l: LogLine) => (typeof pattern === 'string' ? l.message.includes(pattern) : pattern.test(l.message));
    const found = this.lines.slice(mark).find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (line: LogLine) => {
        if (!matches(line)) return;
        clearTimeout(timer);
        this.emitter.off('line', listener);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.emitter.off('line', listener);
        const tail = this.lines
          .slice(mark)
          .map((l) => `  ${l.level}: ${l.message}`)
          .join('\n');
        reject(new Error(`timed out after ${ms} ms waiting for a log line matching ${String(pattern)}; logged since:\n${tail}`));
      }, ms);
      this.emitter.on('line', listener);
    });
  }

  private push(level: LogLine['level'], message: string): void {
    const line = { level, message };
    this.lines.push(line);
    this.emitter.emit('line', line);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw socket.io-client

export function openSocketIo(url: string, auth?: unknown): IoSocket {
  return io(url, {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    // The mesh's own parser: frames travel as one tagged binary message (lib/core/frame-parser.ts).
    parser: frameParser,
    timeout: 5000,
    ...(auth === undefined ? {} : { auth: auth as Record<string, unknown> }),
  });
}

export interface SocketIoOutcome {
  /** The socket.io disconnect reason, or 'connect_error: ...'. */
  reason: string;
  /** 'sm:deny' payloads received before the end. */
  denials: SerializedMeshError[];
  /** ms from `since` to the end. */
  elapsed: number;
}

/**
 * Resolves when the socket is gone (disconnect after connecting, or a connect_error) and
 * reports what the server said on 'sm:deny'. Rejects if it is still up after `ms`.
 * Attach it right after opening the socket so no event is missed.
 */
export function socketIoEnd(socket: IoSocket, ms: number, since = Date.now()): Promise<SocketIoOutcome> {
  const denials: SerializedMeshError[] = [];
  let connectedAfter: number | undefined;
  let helloAfter: number | undefined;
  socket.on(Events.DENY, (error: SerializedMeshError) => denials.push(error));
  socket.once('connect', () => (connectedAfter = Date.now() - since));
  socket.once(Events.HELLO, () => (helloAfter = Date.now() - since));
  return new Promise((resolve, reject) => {
    const finish = (reason: string) => {
      clearTimeout(timer);
      resolve({ reason, denials, elapsed: Date.now() - since });
    };
    const timer = setTimeout(() => {
      socket.disconnect();
      const seen = `connected after ${connectedAfter ?? '-'} ms, server hello after ${helloAfter ?? '-'} ms, denials ${JSON.stringify(denials)}`;
      reject(new Error(`the server did not drop the socket within ${ms} ms (${seen})`));
    }, ms);
    socket.once('disconnect', (reason: string) => finish(reason));
    socket.once('connect_error', (err: Error) => finish(`connect_error: ${err.message}`));
  });
}

// ---------------------------------------------------------------------------------------------
// Raw ws and TCP

export interface WsPeer {
  ws: WebSocket;
  /** Text and binary messages the server sent, in order. */
  received: (string | Buffer)[];
  /** Resolves with the close code once the connection is closed (never rejects). */
  closed: Promise<{ code: number; at: number }>;
  /** Resolves once the WebSocket is open, rejects on an error before that. */
  opened: Promise<void>;
}

/** A raw engine.io v4 WebSocket connection to a socket.io server: no socket.io client logic. */
export function openRawWs(port: number): WsPeer {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const received: (string | Buffer)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => received.push(isBinary ? data : data.toString('utf8')));
  ws.on('error', () => {
    // a refused or reset connection ends in 'close'; that is what the tests wait on
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.once('close', (code: number) => resolve({ code, at: Date.now() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => undefined);
  return { ws, received, closed, opened };
}

/** Sends if the socket is still open; a hostile client does not care whether the write lands. */
export function wsSend(ws: WebSocket, data: string | Buffer): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  ws.send(data, { binary: Buffer.isBuffer(data) });
  return true;
}

export interface TcpPeer {
  socket: TcpSocket;
  closed: Promise<number>;
  connected: Promise<void>;
}

export function openRawTcp(port: number): TcpPeer {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  connected.catch(() => undefined);
  return { socket, closed, connected };
}

/** Races a promise against a deadline. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/**
 * A key holder speaking socket.io by hand over a raw WebSocket: unlike socket.io-client it
 * ignores the server's DISCONNECT packet, so only the server can end the connection.
 * Resolves once the proof is sent and the first sealed frame (WELCOME / REGISTERED...) arrived.
 */
export async function rawWsKeyHolder(
  port: number,
  keys: MeshKeys,
  identity: HandshakeIdentity,
  /** Sealed and sent right after the proof (a REGISTER for the manager). */
  firstMessages?: unknown[][],
  ms = 3000,
): Promise<WsPeer> {
  const peer = openRawWs(port);
  await within(peer.opened, ms, 'the WebSocket to open');
  const initiator = new HandshakeInitiator(keys, identity);
  wsSend(peer.ws, `40${JSON.stringify({ hello: initiator.hello })}`);
  const helloPacket = await waitForWs(
    peer,
    (m) => typeof m === 'string' && m.startsWith(`42["${Events.HELLO}"`),
    ms,
    'the server hello',
  );
  const { proof, session } = initiator.onServerHello((JSON.parse((helloPacket as string).slice(2)) as unknown[])[1]);
  wsSend(peer.ws, `42${JSON.stringify([Events.PROOF, proof])}`);
  if (firstMessages) {
    // A frame as the mesh's parser sends it: one binary message, tag 0xf7 then the sealed bytes.
    const sealed = new FrameSealer(session.sendKey).seal(Buffer.from(JSON.stringify(firstMessages)));
    wsSend(peer.ws, Buffer.concat([Buffer.from([0xf7]), sealed]));
  }
  await waitForWs(peer, (m) => Buffer.isBuffer(m), ms, 'the first sealed frame from the server');
  return peer;
}

/** Resolves with the first message the server sent (already, or to come) passing `predicate`. */
export function waitForWs(
  peer: WsPeer,
  predicate: (m: string | Buffer) => boolean,
  ms: number,
  what: string,
): Promise<string | Buffer> {
  const found = peer.received.find(predicate);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const listener = (data: Buffer, isBinary: boolean) => {
      const m = isBinary ? data : data.toString('utf8');
      if (!predicate(m)) return;
      clearTimeout(timer);
      peer.ws.off('message', listener);
      resolve(m);
    };
    const timer = setTimeout(() => {
      peer.ws.off('message', listener);
      reject(
        new Error(
          `timed out after ${ms} ms waiting for ${what}; received ${JSON.stringify(peer.received.map(String)).slice(0, 300)}`,
        ),
      );
    }, ms);
    peer.ws.on('message', listener);
  });
}

// ---------------------------------------------------------------------------------------------
// The key-holding attacker

export interface KeyHolderOptions {
  url: string;
  keys: MeshKeys;
  identity: HandshakeIdentity;
  /** Wait for the callee's WELCOME (or DENIED) before `connect` resolves; for mesh servers. */
  awaitWelcome?: boolean;
  timeoutMs?: number;
}

/**
 * Holds the mesh keys and speaks the real protocol, so it gets past the handshake; from then
 * on it writes whatever the test asks: well-formed requests, lies, replays, garbage.
 */
export class KeyHolder {
  readonly received: unknown[][] = [];
  readonly denials: SerializedMeshError[] = [];
  /** Every frame this client sealed and emitted, in order (for replays). */
  readonly sent: Buffer[] = [];
  readonly hello: HelloMessage;
  proof: ProofMessage | undefined;
  disconnectReason: string | undefined;
  openError: string | undefined;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  private readonly events = new EventEmitter();
  private readonly ended: Promise<string>;

  private constructor(
    readonly socket: IoSocket,
    initiator: HandshakeInitiator,
  ) {
    this.events.setMaxListeners(0);
    this.hello = initiator.hello;
    socket.on(Events.DENY, (error: SerializedMeshError) => {
      this.denials.push(error);
      this.events.emit('deny', error);
    });
    socket.on(Events.FRAME, (frame: unknown) => this.onFrame(frame));
    this.ended = new Promise((resolve) => {
      socket.once('disconnect', (reason: string) => {
        this.disconnectReason = reason;
        resolve(reason);
      });
      socket.once('connect_error', (err: Error) => {
        this.disconnectReason = `connect_error: ${err.message}`;
        resolve(this.disconnectReason);
      });
    });
  }

  static async connect(options: KeyHolderOptions): Promise<KeyHolder> {
    await offTestStack();
    const initiator = new HandshakeInitiator(options.keys, options.identity);
    const socket = openSocketIo(options.url, { hello: initiator.hello });
    const holder = new KeyHolder(socket, initiator);
    const ms = options.timeoutMs ?? 3000;
    return new Promise<KeyHolder>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.disconnect();
        reject(new Error(`key holder ${options.identity.worker}: handshake not done within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve(holder);
      };
      void holder.ended.then(() => {
        // Refused before the handshake finished: still resolve, the test inspects denials.
        clearTimeout(timer);
        resolve(holder);
      });
      socket.once(Events.HELLO, (serverHello: unknown) => {
        let result;
        try {
          result = initiator.onServerHello(serverHello);
        } catch (err) {
          clearTimeout(timer);
          socket.disconnect();
          reject(err as Error);
          return;
        }
        holder.sealer = new FrameSealer(result.session.sendKey);
        holder.opener = new FrameOpener(result.session.receiveKey);
        holder.proof = result.proof;
        socket.emit(Events.PROOF, result.proof);
        if (!options.awaitWelcome) return done();
        holder.waitForMessage((m) => m[0] === Msg.WELCOME || m[0] === Msg.DENIED, ms).then(done, () => undefined);
      });
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Past the handshake (session keys in hand) and still connected. */
  get established(): boolean {
    return this.sealer !== undefined && this.socket.connected;
  }

  /** Seals a plaintext (a message batch, or any string / bytes) with this connection's next counter. */
  seal(plaintext: unknown[][] | string | Buffer): Buffer {
    if (!this.sealer) throw new Error('no session: the handshake did not complete');
    const bytes = Buffer.isBuffer(plaintext)
      ? plaintext
      : Buffer.from(typeof plaintext === 'string' ? plaintext : JSON.stringify(plaintext), 'utf8');
    return this.sealer.seal(bytes);
  }

  /** Seals and emits; returns the frame so a test can replay or mangle it. */
  sendSealed(plaintext: unknown[][] | string | Buffer): Buffer {
    const frame = this.seal(plaintext);
    this.sent.push(frame);
    this.socket.emit(Events.FRAME, frame);
    return frame;
  }

  /** Emits anything as a frame, as is. */
  emitFrame(...args: unknown[]): void {
    this.socket.emit(Events.FRAME, ...args);
  }

  /** One request; resolves with the RESULT or ERROR message answering it. */
  async request(id: number, command: unknown, payload?: unknown, ms = 3000): Promise<unknown[]> {
    const message = payload === undefined ? [Msg.REQUEST, id, command] : [Msg.REQUEST, id, command, payload];
    this.sendSealed([message]);
    return this.waitForMessage((m) => (m[0] === Msg.RESULT || m[0] === Msg.ERROR) && m[1] === id, ms);
  }

  /** Resolves with the first received message (already here, or to come) passing `predicate`. */
  waitForMessage(predicate: (message: unknown[]) => boolean, ms: number): Promise<unknown[]> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (message: unknown[]) => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        this.events.off('message', listener);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.events.off('message', listener);
        reject(
          new Error(`timed out after ${ms} ms waiting for a message; received ${JSON.stringify(this.received).slice(0, 500)}`),
        );
      }, ms);
      this.events.on('message', listener);
    });
  }

  /** Resolves with the disconnect reason; rejects if the server keeps the socket past `ms`. */
  closed(ms: number): Promise<string> {
    return within(this.ended, ms, 'the server to close the key holder’s connection');
  }

  close(): void {
    this.socket.disconnect();
  }

  private onFrame(frame: unknown): void {
    if (!this.opener || !Buffer.isBuffer(frame)) {
      this.openError = 'server sent a non-binary frame or a frame before the handshake';
      return;
    }
    let batch: unknown;
    try {
      batch = JSON.parse(this.opener.open(frame).toString('utf8'));
    } catch (err) {
      this.openError = `cannot open a server frame: ${(err as Error).message}`;
      return;
    }
    for (const message of batch as unknown[][]) {
      this.received.push(message);
      this.events.emit('message', message);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Randomness (seeded, so a failing fuzz run can be replayed with its seed)

export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bool(): boolean {
    return this.next() < 0.5;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  string(maxLength: number): string {
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '\u0000',
      '\u00e9',
      '\u2028',
      '\ud83d\ude00',
      '\ud800',
      '_',
      '$',
      '%',
    ];
    let s = '';
    const n = this.int(maxLength + 1);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
  /** A random JSON-able value, nested up to `depth`. */
  json(depth = 3): unknown {
    const kinds = depth > 0 ? 9 : 6;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.bool();
      case 2:
        return this.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE, this.int(1_000_000)]);
      case 3:
        return this.string(24);
      case 4:
        return this.pick(SUSPICIOUS_NAMES);
      case 5:
        return this.pick(['', 'sm:hello', 'sm:proof', 'f', 'status', 'anyNode']);
      case 6: {
        const n = this.int(5);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.json(depth - 1));
        return out;
      }
      default: {
        const n = this.int(5);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.bool() ? this.pick(SUSPICIOUS_NAMES) : this.string(8);
          // JSON.parse makes `__proto__` an own key; do the same so the value travels.
          Object.defineProperty(out, key, { value: this.json(depth - 1), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
    }
  }
}

/** Names a careless lookup on an ordinary object would find. */
export const SUSPICIOUS_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'then',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'prototype',
] as const;
