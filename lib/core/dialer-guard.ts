import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { lagTolerantTimeout } from './connection-tracker.js';

/** What socket.io adds around one of our frames (packet header, tag), and then some. */
const PAYLOAD_MARGIN = 2048;

/**
 * socket.io-client options every dialing side uses: no permessage-deflate (a few KB on the wire
 * must not inflate into hundreds of MB) and WebSocket messages bounded by our own frame size
 * instead of ws's 100 MiB default. The other side is unauthenticated until the handshake ends.
 */
export function dialerSocketOptions(maxFrameSize: number): Partial<ManagerOptions & SocketOptions> {
  return {
    perMessageDeflate: false as unknown as { threshold: number },
    maxPayload: maxFrameSize + PAYLOAD_MARGIN,
  } as Partial<ManagerOptions & SocketOptions>;
}

/**
 * The dialing side's handshake deadline: armed at each connection attempt, disarmed once the
 * other side proved the keys and answered (WELCOME, REGISTERED). If it fires, the attempt is
 * abandoned and the owner redials with its backoff, so a silent or stalling peer cannot keep
 * a link `connecting` forever.
 */
export class HandshakeDeadline {
  private cancel: (() => void) | undefined;

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  arm(): void {
    this.disarm();
    if (!(this.ms > 0) || !Number.isFinite(this.ms)) return;
    // Lag-tolerant: a HELLO or WELCOME that arrived while this process was busy is read first.
    this.cancel = lagTolerantTimeout(this.ms, () => {
      this.cancel = undefined;
      this.onExpire();
    });
  }

  disarm(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
