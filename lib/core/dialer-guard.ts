import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import { QUEUE_WAIT_MS } from './admission/connection-gate.js';
import { lagTolerantTimeout, type LinkAgent } from './connection-tracker.js';
import type { SocketIoClient } from './lazy-socket-io.js';
import type { LinkTransport } from './tls/link-transport.js';

/** What socket.io adds around one of our frames (packet header, tag), and then some. */
const PAYLOAD_MARGIN = 2048;

/**
 * socket.io-client options every dialing side uses: no permessage-deflate (a few KB on the wire
 * must not inflate into hundreds of MB) and WebSocket messages bounded by our own frame size
 * instead of ws's 100 MiB default. The other side is unauthenticated until the handshake ends.
 */
function dialerSocketOptions(maxFrameSize: number): Partial<ManagerOptions & SocketOptions> {
  return {
    // Every link has its own Manager (its own agent and deadlines): socket.io-client would
    // otherwise keep the first Manager of each URL in a process-wide cache for good.
    forceNew: true,
    perMessageDeflate: false as unknown as { threshold: number },
    maxPayload: maxFrameSize + PAYLOAD_MARGIN,
  } as Partial<ManagerOptions & SocketOptions>;
}

/**
 * How long a dialer waits, from its TCP connect, for the other side to open the connection
 * (the answer to the WebSocket upgrade). The accepting side answers every upgrade within its
 * queue wait, with a turn or a refusal (admission/connection-gate.ts); waiting longer than that
 * means its answer, not this deadline, decides, and a dial the other side is about to serve is
 * never abandoned (its handshake work wasted) and redialed at the back of the queue. Neither
 * the wait in this process's own dial queue nor the TCP connect counts: the agent bounds the
 * connect (connection-tracker.ts), and this deadline starts when it completed.
 */
export const OPEN_WAIT_MS = QUEUE_WAIT_MS + 4000;

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

  /** (Re)starts the deadline: `ms` from now (default: the one it was made with). */
  arm(ms = this.ms): void {
    this.disarm();
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    // Lag-tolerant: a HELLO or WELCOME that arrived while this process was busy is read first.
    this.cancel = lagTolerantTimeout(ms, () => {
      this.cancel = undefined;
      this.onExpire();
    });
  }

  disarm(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

export interface DialOptions {
  maxFrameSize: number;
  transport: LinkTransport;
  /** socket.io-client's `auth`: runs before each attempt (each gets a fresh handshake). */
  auth: (cb: (data: object) => void) => void;
  /** First redial delay of socket.io-client's own reconnection, ms (jittered, up to 1 s). */
  reconnectionDelay: number;
  /** The other side did not answer an attempt's connection in time (see OPEN_WAIT_MS). */
  onOpenExpired: () => void;
  /** Hold the process's place for the dial until `agent.settled()` (else only until the TCP connect). */
  holdUntilSettled: boolean;
}

/** The socket.io-client socket of one outgoing link (a mesh link or a manager link), and its opening deadline. */
export function dialLink(client: SocketIoClient, url: string, o: DialOptions): { socket: Socket; opening: HandshakeDeadline } {
  const socket = client.io(url, {
    ...dialerSocketOptions(o.maxFrameSize),
    ...o.transport.options,
    auth: o.auth,
    // Sealed frames leave unmasked (sealed-frame-transport.ts says why that is safe).
    transports: [client.SealedFrameWebSocket],
    parser: client.frameParser,
    // A connect attempt abandoned on timeout across a partition may still complete after the
    // heal, orphaned: it must not keep a closed node's process alive (the server's heartbeat ends it).
    autoUnref: true,
    agent: o.transport.agent as unknown as string, // socket.io-client types `agent` as string | boolean; ws takes an http.Agent
    // After a heal a link must be back within ~3 s: short jittered redials, and a TCP connect
    // that finds no answer (a SYN lost across the partition) gives up after 2 s (the agent)
    // instead of waiting on TCP's retransmission backoff. A live but busy peer answers the
    // upgrade within its queue wait: `opening` waits for that answer (socket.io's own timeout,
    // off, would also count this process's queued dials and expire them in a storm).
    reconnectionDelay: o.reconnectionDelay,
    reconnectionDelayMax: 1000,
    randomizationFactor: 0.5,
    timeout: false as unknown as number,
  });
  const opening = openDeadline(socket, o.transport.agent, o.onOpenExpired, o.holdUntilSettled);
  return { socket, opening };
}

/**
 * The deadline of each attempt's opening (see OPEN_WAIT_MS): armed at each TCP connect of
 * `agent`, disarmed once socket.io opened the connection (the handshake deadline takes over).
 * It stands in for socket.io's own `timeout` (the dialers turn it off), which runs from the
 * start of the attempt and so also expires dials still waiting in this process's dial queue.
 */
function openDeadline(socket: Socket, agent: LinkAgent, onExpire: () => void, hold: boolean): HandshakeDeadline {
  const deadline = new HandshakeDeadline(OPEN_WAIT_MS, onExpire);
  agent.onConnected(() => {
    deadline.arm();
    if (!hold) agent.settled();
  });
  // Opened, or the attempt failed (socket.io redials; its next connect arms the deadline again).
  socket.io.on('open', () => deadline.disarm());
  socket.io.on('error', () => deadline.disarm());
  return deadline;
}
