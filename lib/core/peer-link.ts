import { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io-client';
import type { CommandTable } from './command-spec.js';
import { ClientHandshake } from './connection-handshake.js';
import { dialLink, HandshakeDeadline, OPEN_WAIT_MS } from './dialer-guard.js';
import type { MeshKeys } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import { describeConnectError } from './connect-error.js';
import { LinkFailures } from './failure-log.js';
import { formatHost } from './link-address.js';
import { socketIoClient } from './lazy-socket-io.js';
import type { MeshLogger } from './logger.js';
import { textForLog } from './mesh-name.js';
import { PendingCalls, type InstanceHealth } from './pending-calls.js';
import { encode, Events, Msg, readCallerMessage, type PeerInfo } from './protocol.js';
import { Redial } from './redial.js';
import { SecureChannel } from './secure-channel.js';
import { outgoingTraceJson } from './telemetry/client-telemetry.js';
import { hardDisconnect, type LinkAgent } from './connection-tracker.js';
import { LinkHeartbeat, type LivenessTimes } from './node/link-liveness.js';
import { linkTransport } from './tls/link-transport.js';
import type { MeshTlsOptions } from './tls/tls-options.js';

export type PeerLinkState = 'connecting' | 'ready' | 'leaving' | 'denied' | 'closed';

export interface PeerLinkOptions {
  self: { worker: string; variant: string };
  keys: MeshKeys;
  logger: MeshLogger;
  maxFrameSize: number;
  /** Calls allowed in flight on this link before callers get MESH_OVERLOADED. */
  maxPending: number;
  /** Each attempt must end its handshake (WELCOME) within this many ms, else it is redialed (default 5000). */
  handshakeTimeout?: number;
  /** The heartbeat shared with the other links to the same process (node/link-liveness.ts). */
  heartbeat: LivenessTimes;
  /** TLS mode: dial over TLS and accept only a certificate naming the peer's worker. */
  tls?: MeshTlsOptions;
}

/**
 * The caller's side of one directed link to one peer instance: dials it, proves the keys,
 * sends requests and matches answers by id. A call in flight when the link drops fails at
 * once with MESH_PEER_DISCONNECTED; a late answer after a timeout finds no entry and is dropped.
 *
 * Events: 'ready', 'down' (was ready, now not), 'denied' (the peer's allow refused us).
 */
export class PeerLink extends EventEmitter {
  state: PeerLinkState = 'connecting';
  private readonly socket: Socket;
  private readonly handshake: ClientHandshake;
  private channel: SecureChannel | undefined;
  private readonly pending = new PendingCalls(this);
  private readonly failures: LinkFailures;
  private readonly redial = new Redial(250, 5000);
  private readonly deadline: HandshakeDeadline;
  private readonly opening: HandshakeDeadline;
  private readonly agent: LinkAgent;
  /** The peer's process, as its hello named it: links to one process share a heartbeat. */
  private proc = '';
  private readonly heartbeat: LinkHeartbeat;

  constructor(
    public info: PeerInfo,
    private readonly options: PeerLinkOptions,
  ) {
    super();
    this.handshake = new ClientHandshake(options.keys, { role: 'caller', ...options.self });
    this.deadline = new HandshakeDeadline(options.handshakeTimeout ?? 5000, () =>
      this.onHandshakeDeadline(`no handshake within ${options.handshakeTimeout ?? 5000} ms`),
    );
    this.failures = new LinkFailures(options.logger, () => this.label);
    this.heartbeat = new LinkHeartbeat(options.heartbeat, { ping: () => this.ping(), lost: (ms) => this.onSilence(ms) });
    // Loaded: links exist only once the manager link (which loads it) has had a topology.
    const transport = linkTransport(options.tls, info.worker);
    this.agent = transport.agent;
    ({ socket: this.socket, opening: this.opening } = dialLink(
      socketIoClient(),
      `${transport.scheme}://${formatHost(info.host)}:${info.port}`,
      {
        maxFrameSize: options.maxFrameSize,
        transport,
        auth: (cb) => {
          this.deadline.arm();
          this.handshake.auth(cb);
        },
        reconnectionDelay: 200,
        holdUntilSettled: true,
        onOpenExpired: () => this.onHandshakeDeadline(`no answer to the connection within ${OPEN_WAIT_MS} ms`),
      },
    ));
    this.socket.on(Events.HELLO, (hello: unknown) => this.onHello(hello));
    // In clear, before the keys are proven, a refusal is a hint: anyone on the path can send one.
    // Only a sealed DENIED ends the link; this one just ends the attempt (the server hangs up).
    this.socket.on(Events.DENY, (error: Partial<SerializedMeshError> | undefined) =>
      this.failures.authFailed(
        `refused before the handshake: ${typeof error?.message === 'string' ? error.message.slice(0, 200) : 'no reason'}`,
      ),
    );
    this.socket.on('disconnect', (reason: string) => this.onDisconnect(reason));
    this.socket.on('connect_error', (err: Error) => this.failures.connectFailed(describeConnectError(err)));
  }

  get variant(): string {
    return this.info.variant;
  }

  get worker(): string {
    return this.info.worker;
  }

  get commands(): CommandTable {
    return this.info.commands;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** False once `maxPending` calls are in flight: a request now would fail with MESH_OVERLOADED. */
  get hasRoom(): boolean {
    return this.pending.size < this.options.maxPending;
  }

  private get label(): string {
    return `${this.info.worker}/${this.info.variant}`;
  }

  /**
   * Sends one request; resolves with the peer's value. `payloadJson` is the already encoded
   * payload (undefined for none), so a broadcast encodes once for every instance. `health`
   * hears how the call ended (balanced calls: their group's failure detector).
   */
  request(
    command: string,
    payloadJson: string | undefined,
    timeoutMs: number,
    metadataJson?: string,
    health?: InstanceHealth,
  ): Promise<unknown> {
    const channel = this.channel;
    if (this.state !== 'ready' || !channel) {
      return this.pending.refuse(health, MeshErrorCode.PEER_DISCONNECTED, `${this.label} is not connected`, command);
    }
    if (!this.hasRoom) {
      const message = `${this.pending.size} calls already in flight to ${this.label}`;
      return this.pending.refuse(health, MeshErrorCode.OVERLOADED, message, command);
    }
    const id = this.pending.nextRequestId();
    const json = encode.request(id, command, payloadJson, metadataJson, outgoingTraceJson(this.info.variant));
    try {
      channel.send(json);
    } catch (err) {
      const e = err as MeshError;
      return this.pending.refuse(health, e.code ?? MeshErrorCode.BAD_REQUEST, e.message, command);
    }
    return this.pending.track(id, command, timeoutMs, health);
  }

  /** Closes for good: no reconnect; calls in flight fail with MESH_PEER_DISCONNECTED. */
  close(): void {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'ready' || this.state === 'leaving';
    this.state = 'closed';
    this.heartbeat.leave();
    this.redial.cancel();
    this.deadline.disarm();
    this.opening.disarm();
    this.channel?.close();
    this.channel = undefined;
    this.socket.removeAllListeners();
    hardDisconnect(this.socket, this.agent);
    this.pending.failAll('link closed');
    this.pending.stop();
    if (wasUp) this.emit('down');
  }

  private onHello(hello: unknown): void {
    if (this.state === 'closed') return;
    let result;
    try {
      result = this.handshake.completeWithCallee(hello, this.info);
    } catch (err) {
      this.failures.authFailed((err as Error).message);
      this.socket.disconnect();
      return;
    }
    if ('otherVariant' in result) {
      // Another process now holds that port (a restart with a new variant): the manager
      // will list it separately; this link waits until the topology drops the old one.
      this.options.logger.debug(`${this.label}: found ${result.otherVariant} at its address instead`);
      this.socket.disconnect(); // emits 'disconnect', which schedules the retry
      return;
    }
    this.socket.emit(Events.PROOF, result.proof);
    this.proc = result.proc;
    this.channel = new SecureChannel(this.socket, result.session, {
      maxFrameSize: this.options.maxFrameSize,
      onMessage: (message) => this.onMessage(message),
      onViolation: (reason) => {
        this.options.logger.warn(`link to ${this.label} closed: ${reason}`);
        this.onDisconnect('protocol violation');
      },
    });
  }

  private onMessage(raw: unknown[]): void {
    const message = readCallerMessage(raw);
    if (!message) return;
    this.heartbeat.heard();
    switch (message[0]) {
      case Msg.RESULT:
      case Msg.ERROR:
        // No entry: answered after its timeout, nobody waits for it any more.
        this.pending.answer(message[1], message[0] === Msg.RESULT, message[2]);
        return;
      case Msg.WELCOME:
        if (this.state === 'connecting') {
          this.deadline.disarm();
          this.agent.settled();
          this.state = 'ready';
          this.failures.up();
          this.redial.reset();
          this.heartbeat.join({ worker: this.info.worker, host: this.info.host, proc: this.proc });
          this.emit('ready');
        }
        return;
      case Msg.LEAVING:
        if (this.state === 'ready') {
          this.failures.left = true;
          this.state = 'leaving';
          this.emit('down');
        }
        return;
      case Msg.DENIED:
        this.onDeny(message[1]);
        return;
      case Msg.PONG: // heard() above is all it is for
        return;
      default:
        return;
    }
  }

  private onDeny(error: Partial<SerializedMeshError> | undefined): void {
    if (this.state === 'closed' || this.state === 'denied') return;
    const message = typeof error?.message === 'string' ? error.message : 'refused';
    if (error?.code === MeshErrorCode.ACCESS_DENIED) {
      this.options.logger.error(`${this.label} refused this worker: ${textForLog(message)}`);
      this.close();
      this.state = 'denied';
      this.emit('denied', message);
      return;
    }
    this.failures.authFailed(textForLog(message));
  }

  private onDisconnect(reason: string): void {
    if (this.state === 'closed' || this.state === 'denied') return;
    const wasUp = this.state === 'ready' || this.state === 'leaving';
    this.state = 'connecting';
    this.heartbeat.leave();
    this.deadline.disarm();
    this.opening.disarm();
    this.channel?.close();
    this.channel = undefined;
    this.pending.failAll(`${this.label} disconnected (${reason})`);
    if (wasUp) this.emit('down');
    // socket.io-client does not reconnect after a server-side disconnect (a refusal, a drain);
    // we still want to, but with backoff so a refusing peer is not hammered.
    if (!this.socket.active) {
      this.redial.schedule(() => {
        if (this.state === 'connecting' && !this.socket.active) this.socket.connect();
      });
    }
  }

  private ping(): boolean {
    if (!this.channel || (this.state !== 'ready' && this.state !== 'leaving')) return false;
    this.channel.send(encode.ping());
    return true;
  }

  /** Its process stopped answering the shared heartbeat: the connection is dead, however TCP sees it. */
  private onSilence(silentMs: number): void {
    this.options.logger.warn(`link to ${this.label} dropped: nothing heard from its process for ${Math.round(silentMs)} ms`);
    this.onDisconnect('heartbeat timeout');
    // Dropping the TCP connection ends socket.io's, which then redials on its own.
    this.agent.destroyAll();
  }

  /** A peer that accepted the connection but did not open it or finish the handshake in time: redial. */
  private onHandshakeDeadline(what: string): void {
    if (this.state !== 'connecting') return;
    this.failures.authFailed(`${what}; redialing`);
    const wasConnected = this.socket.connected;
    this.socket.disconnect(); // when connected, emits 'disconnect', which schedules the retry
    if (!wasConnected) this.onDisconnect('handshake deadline');
  }
}
