import { FrameOpener, FrameSealer } from './crypto/frame-cipher.js';
import { checkCryptoMode } from './crypto/chacha20-poly1305.js';
import type { SessionKeys } from './crypto/handshake.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { Events, FRAME_HEADROOM, type SealedFrame } from './protocol.js';

/** The part of a socket.io socket (server or client side) a channel needs. */
export interface FrameSocket {
  emit(event: string, ...args: unknown[]): unknown;
  /* eslint-disable @typescript-eslint/no-explicit-any -- socket.io types listeners as (...args: any[]) => void; nothing narrower matches both of its sockets */
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  disconnect(): unknown;
}

export interface ChannelOptions {
  /** Largest message accepted or sent, in bytes of JSON; a sealed frame may exceed it by FRAME_SLACK. */
  maxFrameSize: number;
  onMessage(message: unknown[]): void;
  /** Called once when the peer sent something that is not a valid frame; the socket is already closed. */
  onViolation(reason: string): void;
}

/** Ciphertext overhead (tag) plus JSON brackets, so a message of exactly maxFrameSize still fits. */
const FRAME_SLACK = 64;
/**
 * Messages are coalesced into frames of at most this many bytes (a larger single message still
 * gets a frame of its own, up to maxFrameSize). Buffers above ~128 KiB are allocated outside the
 * allocator's pools (mmap) and page-faulted in on every use: a 1 MiB frame of 64 × 16 KiB
 * messages cost 30× the CPU per byte of 64 KiB frames (bench row balanced c=64 16 KiB).
 */
const COALESCE_BYTES = 64 * 1024;
/**
 * The first frame of a turn leaves as soon as it holds this many messages; the rest of the
 * turn's messages coalesce as above. A turn that sends dozens of requests (or answers) thereby
 * lets the other side start on the first of them while this side is still producing the rest,
 * instead of the two processes taking turns with the whole batch. Measured at 64 in flight
 * (bench/README.md, "Pipelining the first frame"): 8, 16 and 32 all helped, 32 most.
 */
const EARLY_FRAME_MESSAGES = 32;

/**
 * One encrypted, ordered message stream over a socket. Messages written while one event-loop
 * callback and the promise continuations it set off run are sealed together into frames (the
 * first after EARLY_FRAME_MESSAGES, the rest up to COALESCE_BYTES each): at high concurrency
 * that is most of the cost of a call saved. The flush is a process.nextTick:
 * it runs once the microtask queue is empty (the continuations of every answer a frame carried
 * have sent their next requests by then), in the same callback, so at concurrency 1 a request
 * leaves without waiting for the loop's check phase (a setImmediate cost both latency and an
 * Immediate per frame).
 */
export class SecureChannel {
  private readonly sealer: FrameSealer;
  private readonly opener: FrameOpener;
  private pending: string[] = [];
  private scratch = Buffer.alloc(0);
  private pendingBytes = 0;
  /** The end-of-turn flush is queued (one per turn, however many frames leave before it). */
  private flushScheduled = false;
  /** A frame already left in this turn (see EARLY_FRAME_MESSAGES). */
  private sentThisTurn = false;
  private closed = false;
  private readonly onFrame = (frame: unknown) => this.receive(frame);
  private readonly scheduledFlush = () => {
    this.flushScheduled = false;
    this.sentThisTurn = false;
    this.flush();
  };

  constructor(
    private readonly socket: FrameSocket,
    session: SessionKeys,
    private readonly options: ChannelOptions,
  ) {
    checkCryptoMode(); // a bad SOCKET_MESH_CRYPTO fails here, not inside a later flush
    this.sealer = new FrameSealer(session.sendKey);
    this.opener = new FrameOpener(session.receiveKey);
    socket.on(Events.FRAME, this.onFrame);
  }

  /** Processes frames that arrived before the channel existed, in order. */
  feed(frames: readonly unknown[]): void {
    for (const frame of frames) this.receive(frame);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queues one message, already JSON-encoded. Throws MESH_BAD_REQUEST when it can never fit a
   * frame, so the caller learns at once instead of the peer dropping the connection.
   */
  send(json: string): void {
    if (this.closed) throw new MeshError(MeshErrorCode.PEER_DISCONNECTED, 'connection closed');
    const bytes = Buffer.byteLength(json);
    if (bytes > this.options.maxFrameSize) {
      throw new MeshError(
        MeshErrorCode.BAD_REQUEST,
        `message of ${bytes} bytes exceeds the maximum frame size of ${this.options.maxFrameSize} bytes`,
      );
    }
    if (
      this.pending.length > 0 &&
      (this.pendingBytes + bytes > Math.min(this.options.maxFrameSize, COALESCE_BYTES) ||
        (!this.sentThisTurn && this.pending.length >= EARLY_FRAME_MESSAGES))
    ) {
      this.sentThisTurn = true;
      this.flush();
    }
    this.pending.push(json);
    this.pendingBytes += bytes + 1;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.scheduledFlush);
    }
  }

  /** Seals and writes what is queued now. */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const plaintext = this.encodePending();
    this.pending = [];
    this.pendingBytes = 0;
    // One free byte before the frame for the frame parser's tag: it need not copy the frame.
    const frame: SealedFrame = this.sealer.seal(plaintext, 1);
    frame[FRAME_HEADROOM] = true;
    this.socket.emit(Events.FRAME, frame);
  }

  /**
   * The batch `[msg,msg,…]` as UTF-8, written straight into a buffer the channel reuses (the
   * sealer reads it at once): no joined string, no new buffer per frame.
   */
  private encodePending(): Buffer {
    const size = this.pendingBytes + 1; // pendingBytes counts a separator per message
    let out = this.scratch;
    if (size > out.length) {
      out = Buffer.allocUnsafeSlow(Math.max(size, 1024));
      if (size <= COALESCE_BYTES + FRAME_SLACK) this.scratch = out;
    }
    out[0] = 0x5b; // [
    let at = 1;
    for (const json of this.pending) {
      at += out.write(json, at, 'utf8');
      out[at++] = 0x2c; // ,
    }
    out[at - 1] = 0x5d; // ] in place of the last separator
    return out.subarray(0, at);
  }

  /** Stops reading and writing; queued messages are flushed first. Does not close the socket. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.socket.off(Events.FRAME, this.onFrame);
  }

  private receive(frame: unknown): void {
    if (this.closed) return;
    if (!Buffer.isBuffer(frame)) return this.violate('frame is not binary');
    if (frame.length > this.options.maxFrameSize + FRAME_SLACK) {
      return this.violate(`frame of ${frame.length} bytes exceeds the limit of ${this.options.maxFrameSize}`);
    }
    let batch: unknown;
    try {
      batch = JSON.parse(this.opener.openTransient(frame).toString('utf8'));
    } catch {
      return this.violate('frame failed authentication (tampered, replayed, reordered or wrong keys)');
    }
    if (!Array.isArray(batch)) return this.violate('frame does not hold a message batch');
    for (const message of batch) {
      if (this.closed) return;
      if (!Array.isArray(message) || typeof message[0] !== 'number') return this.violate('malformed message');
      this.options.onMessage(message);
    }
  }

  private violate(reason: string): void {
    this.pending = [];
    this.closed = true;
    this.socket.off(Events.FRAME, this.onFrame);
    this.socket.disconnect();
    this.options.onViolation(reason);
  }
}
