import { Agent, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Socket as ClientSocket } from 'socket.io-client';

/**
 * Every raw connection an HTTP server accepted, upgraded ones included (the http server stops
 * tracking a socket once it is upgraded, so `closeAllConnections()` alone misses WebSockets).
 * A graceful WebSocket close waits for the peer's close frame, up to 30 s in `ws`: across a
 * partition that never comes, so close() destroys what is left once its grace is over.
 */
export class ConnectionTracker {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly http: HttpServer) {
    http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Destroys every connection still open: nothing is left holding the process. */
  destroyAll(): void {
    this.http.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

/** Resolves after `ms` (or at once when ms ≤ 0) without keeping the process up by itself. */
export function graceDelay(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Runs `fn` after `ms`, but only after the event loop had a chance to read what arrived
 * meanwhile: a timer that fires late because the process was busy (hundreds of links starting
 * at once) would otherwise expire a connect or handshake that completed during the stall and
 * is waiting in the same turn, and the redial would add to the load that caused the stall.
 * The timer is unref'd. Returns a cancel function.
 */
export function lagTolerantTimeout(ms: number, fn: () => void): () => void {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    // The timers phase runs before the poll phase: one setImmediate lets pending I/O in first.
    // Not unref'd: an unref'd immediate does not stop the poll phase from blocking, so in an
    // idle process it ran only with the next I/O or timer (measured: a heartbeat verdict 470 ms late).
    immediate = setImmediate(fn);
  }, ms);
  timer.unref();
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

/**
 * Every TCP connection an outgoing link's agent opened. A connect attempt that socket.io
 * abandons on its timeout across a partition can still complete after the heal, orphaned (no
 * engine listens to it); its WebSocket close timer would then keep a closed process alive for
 * 30 s. destroyAll() destroys them all.
 *
 * `connectTimeout`: a TCP connect that has not completed by then is abandoned (a dead address, a
 * SYN lost across a partition). Only the TCP connect: a live server that is slow to answer the
 * handshake (under a storm of them) is waited for, not timed out and retried.
 */
export class OpenedConnections {
  private readonly opened = new Set<Socket>();
  /** Its dials still waiting in the process-wide queue (dropped on destroyAll). */
  private readonly queued = new Set<QueuedDial>();
  /** Releases of its connected dials whose other side has not answered yet. */
  private readonly holding = new Set<() => void>();

  /** Runs when one of its TCP connects completes (the dialer's wait for the other side's answer starts there). */
  onConnected: (() => void) | undefined;

  constructor(private readonly connectTimeout = 2000) {}

  /**
   * An Agent's `createConnection(options, oncreate)`: dials through `create` now, or, when
   * this process already has MAX_DIALS_AT_ONCE connects in progress, later in order (then
   * `oncreate` gets the socket and this returns undefined, as Node's Agent allows).
   */
  dial(args: unknown[], create: (options: object) => Socket): Socket | undefined {
    const [options, oncreate] = args as [object, (err: Error | null, socket?: Socket) => void];
    // A process starting hundreds of links dials a bounded number at once; the rest wait their
    // turn here (their connect timeout starts with the dial), not in the peers' listen backlogs.
    if (dialing < MAX_DIALS_AT_ONCE) return this.open(create(options));
    const waiting: QueuedDial = {
      owner: this.queued,
      start: () => {
        let socket: Socket;
        try {
          socket = this.open(create(options));
        } catch (err) {
          return oncreate(err as Error);
        }
        oncreate(null, socket);
      },
    };
    dialQueue.push(waiting);
    this.queued.add(waiting);
    return undefined;
  }

  destroyAll(): void {
    for (const waiting of this.queued) dialQueue.splice(dialQueue.indexOf(waiting), 1);
    this.queued.clear();
    for (const socket of this.opened) socket.destroy();
    this.opened.clear();
  }

  /**
   * The dial of this agent still holding its place (connected, not answered yet) is over: the
   * other side served it (the handshake ended), so the next dial of this process may start.
   */
  settled(): void {
    for (const release of this.holding) release();
    this.holding.clear();
  }

  private open(socket: Socket): Socket {
    this.opened.add(socket);
    socket.once('close', () => this.opened.delete(socket));
    if (socket.connecting) {
      dialing++;
      let counted = true;
      const cancel = lagTolerantTimeout(this.connectTimeout, () => {
        if (socket.connecting) socket.destroy(new Error(`connect timeout (${this.connectTimeout} ms)`));
      });
      const release = () => {
        cancel();
        if (!counted) return;
        counted = false;
        this.holding.delete(release);
        dialing--;
        nextDial();
      };
      // Connected: the place is held until the other side answered (settled()) or the
      // connection went, so what waits is this process's queue, not the other side's.
      socket.once('connect', () => {
        cancel();
        this.holding.add(release);
        this.onConnected?.();
      });
      socket.once('close', release);
    }
    return socket;
  }
}

interface QueuedDial {
  /** The queued set of the OpenedConnections it belongs to. */
  owner: Set<QueuedDial>;
  start(): void;
}

/**
 * Dials in progress in this process (connecting, or connected and not answered yet), at most;
 * more wait in `dialQueue`, in order. A process starting a thousand links thereby keeps at most
 * this many waiting on the other sides: none waits there long enough for a deadline to expire
 * it after the other side spent its handshake work, and no listen backlog overflows.
 */
const MAX_DIALS_AT_ONCE = 64;
let dialing = 0;
const dialQueue: QueuedDial[] = [];

function nextDial(): void {
  while (dialing < MAX_DIALS_AT_ONCE && dialQueue.length > 0) {
    const next = dialQueue.shift()!;
    next.owner.delete(next);
    next.start();
  }
}

/** The agent of one outgoing link, with the connections it opened tracked (see OpenedConnections). */
export interface LinkAgent {
  /** Destroys every connection this agent opened that is still there. */
  destroyAll(): void;
  /** Runs when a TCP connect of this agent completes. */
  onConnected(listener: () => void): void;
  /** The other side answered this agent's dial (handshake over): its place in the dial queue goes to the next dial. */
  settled(): void;
}

/**
 * `agent` (an http or https Agent of one outgoing link) with the connections it opens tracked
 * and bounded (see OpenedConnections). Both Agents call `createConnection(options, oncreate)`;
 * https's own takes the options object first too.
 */
export function trackConnections<A extends Agent>(agent: A, connectTimeout = 2000): A & LinkAgent {
  const opened = new OpenedConnections(connectTimeout);
  const create = agent.createConnection.bind(agent) as (options: object) => Socket;
  agent.createConnection = ((...args: unknown[]) => opened.dial(args, create)) as unknown as Agent['createConnection'];
  return Object.assign(agent, {
    destroyAll(): void {
      opened.destroyAll();
      agent.destroy();
    },
    onConnected(listener: () => void): void {
      opened.onConnected = listener;
    },
    settled(): void {
      opened.settled();
    },
  });
}

/**
 * Disconnects a socket.io client and, shortly after, destroys every connection its agent
 * opened: a WebSocket close handshake would otherwise keep a socket and a 30 s timer alive
 * when the peer is unreachable. The short wait lets a last frame (UNREGISTER, DISCONNECT) leave first.
 */
export function hardDisconnect(socket: ClientSocket | undefined, agent: LinkAgent, graceMs = 200): void {
  socket?.disconnect();
  setTimeout(() => agent.destroyAll(), graceMs).unref();
}
