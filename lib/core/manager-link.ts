import { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io-client';
import { ClientHandshake } from './connection-handshake.js';
import { dialLink, HandshakeDeadline, OPEN_WAIT_MS } from './dialer-guard.js';
import { describeConnectError } from './connect-error.js';
import { loadSocketIoClient, type SocketIoClient } from './lazy-socket-io.js';
import type { MeshKeys } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import { FailureLog } from './failure-log.js';
import type { MeshLogger } from './logger.js';
import { textForLog } from './mesh-name.js';
import { describeManager, managerSocketUrl, type ManagerAddress } from './link-address.js';
import { encode, Events, Msg, readWorkerMessage, type LinkReport, type Registration } from './protocol.js';
import { ADMISSION_MAX_WAIT_MS } from './manager/admission-queue.js';
import { LinkHeartbeat, type LivenessTimes } from './node/link-liveness.js';
import { classifyRefusal } from './manager-refusal.js';
import { Redial } from './redial.js';
import { SecureChannel } from './secure-channel.js';
import { hardDisconnect } from './connection-tracker.js';
import { linkTransport, type LinkTransport } from './tls/link-transport.js';
import { managerNameOf, type MeshTlsOptions } from './tls/tls-options.js';

export interface ManagerLinkOptions {
  manager: ManagerAddress;
  keys: MeshKeys;
  logger: MeshLogger;
  maxFrameSize: number;
  registration: () => Registration;
  /** Each attempt must be registered within this many ms, else it is redialed (default 5000). */
  handshakeTimeout?: number;
  /** TLS mode: dial over TLS and accept only a certificate naming the manager (`tls.managerName`). */
  tls?: MeshTlsOptions;
  /** The connection opens at once, the handshake (so the registration) once this resolved: keys derived, port listening. */
  canRegister?: Promise<void>;
  /** The heartbeat shared with this process's other links to the same manager process. */
  heartbeat: LivenessTimes;
}

// A restarted manager must be complete again within ~2 s: the backoff stays short (jittered, so
// a thousand workers do not come back in one instant; the manager paces the rest itself).
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 1500;
const PLAIN_REFUSALS_TO_GIVE_UP = 3;

/**
 * The worker's connection to the manager: proves the keys, registers, receives topology
 * snapshots, and reconnects with jittered backoff for as long as the worker lives. Losing it
 * does not touch peer links: the manager is not in the call path.
 *
 * Events: 'registered' ({ variant, host }), 'topology' (Topology), 'refused' (MeshError),
 * 'disconnected'.
 */
export class ManagerLink extends EventEmitter {
  private socket: Socket | undefined;
  private handshake: ClientHandshake;
  private channel: SecureChannel | undefined;
  private closed = false;
  private readonly redial = new Redial(RETRY_MIN_MS, RETRY_MAX_MS);
  private deadline: HandshakeDeadline | undefined;
  private opening: HandshakeDeadline | undefined;
  /** Attempts in a row refused in clear (a hint only: see onPlainRefusal). */
  private plainRefusals = 0;
  private readonly failures: FailureLog;
  private readonly transport: LinkTransport;
  /** The last link report (encoded), sent again after each registration: the manager keeps it as soft state. */
  private links: string | undefined;
  /** Counts socket.io-client's auth requests: one still waiting for canRegister is dropped once a newer attempt asked. */
  private authAttempt = 0;
  /** The manager's process, as its hello named it: this process's links to it share a heartbeat. */
  private managerProc = '';
  private readonly heartbeat: LinkHeartbeat;
  registered = false;

  constructor(
    private readonly options: ManagerLinkOptions,
    identity: { worker: string; variant: string },
  ) {
    super();
    this.handshake = new ClientHandshake(options.keys, { role: 'worker', ...identity });
    this.failures = new FailureLog(options.logger);
    this.heartbeat = new LinkHeartbeat(options.heartbeat, {
      ping: () => this.ping(),
      lost: (silentMs) => {
        this.logFailure(`nothing heard from the manager for ${Math.round(silentMs)} ms; redialing`);
        // The connection is dead however TCP sees it: drop it now; the 'disconnect' handler redials.
        this.socket?.disconnect();
        this.transport.agent.destroyAll();
      },
    });
    this.transport = linkTransport(options.tls, options.tls ? managerNameOf(options.tls) : 'manager');
  }

  start(): void {
    void this.connect();
  }

  /** Tells the manager we leave on purpose, so callers stop choosing us before the socket closes. */
  unregister(): void {
    if (this.channel && !this.channel.isClosed) {
      this.channel.send(encode.unregister());
      this.channel.flush();
    }
  }

  /** Sends the peers this worker is linked to now (or after the next registration). */
  reportLinks(report: LinkReport): void {
    const encoded = report.length === 0 && this.links === undefined ? undefined : encode.links(report);
    if (encoded === this.links) return;
    this.links = encoded;
    if (encoded !== undefined && this.registered && this.channel && !this.channel.isClosed) this.channel.send(encoded);
  }

  close(): void {
    this.closed = true;
    this.heartbeat.leave();
    this.redial.cancel();
    this.deadline?.disarm();
    this.opening?.disarm();
    this.channel?.close();
    if (this.socket) this.socket.removeAllListeners();
    hardDisconnect(this.socket, this.transport.agent);
  }

  private async connect(): Promise<void> {
    let url: string;
    try {
      url = await managerSocketUrl(this.options.manager, this.transport.scheme);
    } catch (err) {
      this.logFailure(`manager not reachable: ${describeConnectError(err)}`);
      return this.retryLater();
    }
    let client: SocketIoClient;
    try {
      client = await loadSocketIoClient();
    } catch (err) {
      this.logFailure(`socket.io-client did not load: ${(err as Error).message}`);
      return this.retryLater();
    }
    if (this.closed) return;
    const expire = (what: string) => {
      this.logFailure(`the manager at ${url} did not ${what}; redialing`);
      const wasConnected = socket.connected;
      socket.disconnect(); // when connected, the 'disconnect' listener below redials
      if (!wasConnected && this.socket === socket) {
        socket.removeAllListeners();
        this.socket = undefined;
        this.retryLater();
      }
    };
    const handshakeMs = this.options.handshakeTimeout ?? 5000;
    let allowedMs = handshakeMs;
    const deadline = new HandshakeDeadline(handshakeMs, () => expire(`finish the handshake within ${allowedMs} ms`));
    this.deadline = deadline;
    const { socket, opening } = dialLink(client, url, {
      maxFrameSize: this.options.maxFrameSize,
      transport: this.transport,
      auth: (cb) => {
        const attempt = ++this.authAttempt;
        const send = () => {
          if (attempt !== this.authAttempt || this.closed || this.socket !== socket) return;
          allowedMs = handshakeMs;
          deadline.arm();
          this.handshake.auth(cb);
        };
        if (this.options.canRegister) void this.options.canRegister.then(send);
        else send();
      },
      reconnectionDelay: RETRY_MIN_MS,
      // A manager paces registrations itself (its admission queue): its place is given back at the connect.
      holdUntilSettled: false,
      onOpenExpired: () => expire(`answer the connection within ${OPEN_WAIT_MS} ms`),
    });
    this.socket = socket;
    this.opening?.disarm();
    this.opening = opening;
    // A manager pacing registrations says when this one's turn comes: expiring first would give
    // up the turn and queue again at the back (1,000 workers behind one address at 100/s wait up
    // to 10 s). In clear, so bounded by the queue's own bound.
    socket.on(Events.WAIT, (ms: unknown) => {
      if (typeof ms !== 'number' || !(ms > 0)) return;
      allowedMs = Math.round(Math.min(ms, ADMISSION_MAX_WAIT_MS) + handshakeMs);
      deadline.arm(allowedMs);
    });
    socket.on(Events.HELLO, (hello: unknown) => this.onHello(socket, hello));
    socket.on(Events.DENY, (error: SerializedMeshError) => this.onPlainRefusal(error));
    socket.on('connect_error', (err: Error) =>
      this.logFailure(`cannot reach the manager at ${url}: ${describeConnectError(err)}`),
    );
    socket.on('disconnect', (reason: string) => {
      this.heartbeat.leave();
      deadline.disarm();
      this.opening?.disarm();
      this.channel?.close();
      this.channel = undefined;
      const was = this.registered;
      this.registered = false;
      if (was) {
        this.options.logger.warn(`lost the manager (${reason}); peer links stay up, reconnecting`);
        this.emit('disconnected');
      }
      if (this.closed) return;
      // After a server-side disconnect socket.io-client gives up; a manager restart must not end the worker's search.
      if (!socket.active) {
        socket.removeAllListeners();
        this.socket = undefined;
        this.retryLater();
      }
    });
  }

  private retryLater(): void {
    if (!this.closed) this.redial.schedule(() => void this.connect());
  }

  private onHello(socket: Socket, hello: unknown): void {
    let result;
    try {
      result = this.handshake.complete(hello);
      if (result.peer.role !== 'manager')
        throw new MeshError(MeshErrorCode.AUTH_FAILED, `expected the manager, found a ${result.peer.role}`);
    } catch (err) {
      // Here it is this worker refusing the manager, not the other way round: say so.
      const reason = err instanceof Error ? err.message : String(err);
      this.logFailure(`refused the manager at ${describeManager(this.options.manager)}: ${reason}`, 'error');
      this.emit('refused', new MeshError(MeshErrorCode.AUTH_FAILED, `the manager could not be authenticated: ${reason}`));
      socket.disconnect();
      return;
    }
    socket.emit(Events.PROOF, result.proof);
    this.managerProc = result.proc;
    this.channel = new SecureChannel(socket, result.session, {
      maxFrameSize: this.options.maxFrameSize,
      onMessage: (message) => this.onMessage(message),
      onViolation: (reason) => this.options.logger.warn(`manager connection dropped: ${reason}`),
    });
    this.channel.send(encode.register(this.options.registration()));
  }

  private onMessage(raw: unknown[]): void {
    const message = readWorkerMessage(raw);
    if (!message) return;
    this.heartbeat.heard();
    switch (message[0]) {
      case Msg.PING:
        this.channel?.send(encode.pong());
        return;
      case Msg.REGISTERED:
        this.deadline?.disarm();
        this.plainRefusals = 0;
        this.registered = true;
        this.redial.reset();
        this.failures.succeeded(`the manager at ${describeManager(this.options.manager)} is reachable`);
        if (this.links !== undefined) this.channel?.send(this.links);
        this.heartbeat.join({ worker: 'manager', host: describeManager(this.options.manager), proc: this.managerProc });
        this.emit('registered', message[1]);
        return;
      case Msg.TOPOLOGY:
        this.emit('topology', message[1]);
        return;
      case Msg.REFUSED:
        this.onRefused(message[1]);
        return;
      default:
        return;
    }
  }

  private onRefused(error: Partial<SerializedMeshError> | undefined, refusal = classifyRefusal(error)): void {
    if (refusal.transient) return this.logFailure(refusal.logLine);
    this.logFailure(refusal.logLine, 'error');
    this.emit('refused', refusal.error);
  }

  /**
   * A refusal in clear comes before the manager proved the keys: anyone on the path can forge
   * one. So it is a hint: the worker keeps redialing, and only when attempts keep being refused
   * (PLAIN_REFUSALS_TO_GIVE_UP in a row, e.g. other keys) does it report 'refused' so ready() can
   * reject; a sealed REFUSED is reported at once.
   */
  private onPlainRefusal(error: Partial<SerializedMeshError> | undefined): void {
    // A busy manager (its registration queue full) is retried for as long as it takes.
    const refusal = classifyRefusal(error);
    if (refusal.transient || ++this.plainRefusals >= PLAIN_REFUSALS_TO_GIVE_UP) return this.onRefused(error, refusal);
    const reason = typeof error?.message === 'string' ? textForLog(error.message, 200) : 'no reason given';
    // At debug: if the refusals go on, the 'refused' report logs the one error line.
    this.options.logger.debug(`the manager refused this attempt before the handshake (${reason}); redialing`);
  }

  private ping(): boolean {
    if (!this.registered || !this.channel || this.channel.isClosed) return false;
    this.channel.send(encode.ping());
    return true;
  }

  private logFailure(message: string, level: 'warn' | 'error' = 'warn'): void {
    // At the start of an outage and at rising intervals: a manager down for an hour must not fill the log.
    this.failures.failed(message, level);
  }
}
