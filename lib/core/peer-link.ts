import { EventEmitter } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import type { CommandTable } from './command-spec.js';
import { frameParser } from './frame-parser.js';
import { ClientHandshake } from './connection-handshake.js';
import type { MeshKeys } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import type { MeshLogger } from './logger.js';
import { encode, Events, Msg, readCallerMessage, type PeerInfo } from './protocol.js';
import { SecureChannel } from './secure-channel.js';
import { hardDisconnect, TrackingAgent } from './connection-tracker.js';

export type PeerLinkState = 'connecting' | 'ready' | 'leaving' | 'denied' | 'closed';

export interface PeerLinkOptions {
  self: { worker: string; variant: string };
  keys: MeshKeys;
  logger: MeshLogger;
  maxFrameSize: number;
  /** Calls allowed in flight on this link before callers get MESH_OVERLOADED. */
  maxPending: number;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: MeshError): void;
  timer: NodeJS.Timeout;
  command: string;
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
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private authFailuresLogged = 0;
  private retryDelay = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly agent = new TrackingAgent();

  constructor(
    public info: PeerInfo,
    private readonly options: PeerLinkOptions,
  ) {
    super();
    this.handshake = new ClientHandshake(options.keys, { role: 'caller', ...options.self });
    this.socket = io(`http://${formatHost(info.host)}:${info.port}`, {
      auth: this.handshake.auth,
      transports: ['websocket'],
      parser: frameParser,
      // A connect attempt abandoned on timeout across a partition may still complete after the
      // heal, orphaned: it must not keep a closed node's process alive (the server's heartbeat ends it).
      autoUnref: true,
      agent: this.agent as unknown as string, // socket.io-client types `agent` as string | boolean; ws takes an http.Agent
      // After a heal the link must be back within ~3 s: short jittered redials, and a TCP connect
      // that finds no answer (a SYN lost across the partition) gives up after 2 s (the agent)
      // instead of waiting on TCP's retransmission backoff. A live but busy peer gets longer to
      // answer the handshake: timing it out would only retry it in a storm.
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.5,
      timeout: HANDSHAKE_WAIT_MS,
    });
    this.socket.on(Events.HELLO, (hello: unknown) => this.onHello(hello));
    this.socket.on(Events.DENY, (error: SerializedMeshError) => this.onDeny(error));
    this.socket.on('disconnect', (reason: string) => this.onDisconnect(reason));
    this.socket.on('connect_error', (err: Error) => {
      this.options.logger.debug(`link to ${this.label} failed to connect: ${err.message}`);
    });
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
   * payload (undefined for none), so a broadcast encodes once for every instance.
   */
  request(command: string, payloadJson: string | undefined, timeoutMs: number, metadataJson?: string): Promise<unknown> {
    const channel = this.channel;
    if (this.state !== 'ready' || !channel) {
      return Promise.reject(this.error(MeshErrorCode.PEER_DISCONNECTED, `${this.label} is not connected`, command));
    }
    if (this.pending.size >= this.options.maxPending) {
      return Promise.reject(
        this.error(MeshErrorCode.OVERLOADED, `${this.pending.size} calls already in flight to ${this.label}`, command),
      );
    }
    const id = this.nextId++;
    const json = encode.request(id, command, payloadJson, metadataJson);
    try {
      channel.send(json);
    } catch (err) {
      const e = err as MeshError;
      return Promise.reject(this.error(e.code ?? MeshErrorCode.BAD_REQUEST, e.message, command));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.error(MeshErrorCode.TIMEOUT, `${this.label} did not answer '${command}' within ${timeoutMs} ms`, command));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, command });
    });
  }

  /** Closes for good: no reconnect; calls in flight fail with MESH_PEER_DISCONNECTED. */
  close(): void {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'ready' || this.state === 'leaving';
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.channel?.close();
    this.channel = undefined;
    this.socket.removeAllListeners();
    hardDisconnect(this.socket, this.agent);
    this.failPending('link closed');
    if (wasUp) this.emit('down');
  }

  private onHello(hello: unknown): void {
    if (this.state === 'closed') return;
    let session;
    try {
      const result = this.handshake.complete(hello);
      if (result.peer.role !== 'callee' || result.peer.worker !== this.info.worker) {
        throw new MeshError(
          MeshErrorCode.AUTH_FAILED,
          `expected ${this.info.worker} at ${this.info.host}:${this.info.port}, found ${result.peer.role} ${result.peer.worker}`,
        );
      }
      if (result.peer.variant !== this.info.variant) {
        // Another process now holds that port (a restart with a new variant): the manager
        // will list it separately; this link waits until the topology drops the old one.
        this.options.logger.debug(`${this.label}: found ${result.peer.variant} at its address instead`);
        this.socket.disconnect(); // emits 'disconnect', which schedules the retry
        return;
      }
      this.socket.emit(Events.PROOF, result.proof);
      session = result.session;
    } catch (err) {
      this.logAuthFailure((err as Error).message);
      this.socket.disconnect();
      return;
    }
    this.channel = new SecureChannel(this.socket, session, {
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
    switch (message[0]) {
      case Msg.RESULT:
      case Msg.ERROR: {
        const call = this.pending.get(message[1]);
        if (!call) return; // answered after its timeout: nobody waits for it any more
        this.pending.delete(message[1]);
        clearTimeout(call.timer);
        if (message[0] === Msg.RESULT) call.resolve(message[2]);
        else call.reject(this.remoteError(message[2], call.command));
        return;
      }
      case Msg.WELCOME:
        if (this.state === 'connecting') {
          this.state = 'ready';
          this.authFailuresLogged = 0;
          this.retryDelay = RETRY_MIN_MS;
          this.emit('ready');
        }
        return;
      case Msg.LEAVING:
        if (this.state === 'ready') {
          this.state = 'leaving';
          this.emit('down');
        }
        return;
      case Msg.DENIED:
        this.onDeny(message[1]);
        return;
      default:
        return;
    }
  }

  private onDeny(error: Partial<SerializedMeshError> | undefined): void {
    if (this.state === 'closed' || this.state === 'denied') return;
    const message = typeof error?.message === 'string' ? error.message : 'refused';
    if (error?.code === MeshErrorCode.ACCESS_DENIED) {
      this.options.logger.error(`${this.label} refused this worker: ${message}`);
      this.close();
      this.state = 'denied';
      this.emit('denied', message);
      return;
    }
    this.logAuthFailure(message);
  }

  private onDisconnect(reason: string): void {
    if (this.state === 'closed' || this.state === 'denied') return;
    const wasUp = this.state === 'ready' || this.state === 'leaving';
    this.state = 'connecting';
    this.channel?.close();
    this.channel = undefined;
    this.failPending(`${this.label} disconnected (${reason})`);
    if (wasUp) this.emit('down');
    // socket.io-client does not reconnect after a server-side disconnect (a refusal, a drain);
    // we still want to, but with backoff so a refusing peer is not hammered.
    if (!this.socket.active && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'connecting' && !this.socket.active) this.socket.connect();
      }, this.retryDelay * (0.75 + Math.random() * 0.5));
      this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    }
  }

  private failPending(message: string): void {
    if (this.pending.size === 0) return;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(this.error(MeshErrorCode.PEER_DISCONNECTED, message, call.command));
    }
  }

  private logAuthFailure(message: string): void {
    // One line per outage, not one per reconnect attempt.
    if (this.authFailuresLogged++ === 0) this.options.logger.error(`link to ${this.label}: ${message}`);
  }

  private error(code: MeshError['code'], message: string, command: string): MeshError {
    return new MeshError(code, message, { worker: this.info.worker, variant: this.info.variant, command });
  }

  private remoteError(input: unknown, command: string): MeshError {
    const e = (typeof input === 'object' && input !== null ? input : {}) as Partial<SerializedMeshError>;
    const code = typeof e.code === 'string' && e.code.startsWith('MESH_') ? e.code : MeshErrorCode.REMOTE_ERROR;
    return new MeshError(code, typeof e.message === 'string' ? e.message : 'remote error', {
      worker: this.info.worker,
      variant: this.info.variant,
      command,
      remoteName: e.remoteName,
      status: e.status,
      response: e.response,
    });
  }
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** How long a reachable peer may take to open the socket.io connection under load. */
const HANDSHAKE_WAIT_MS = 10_000;

/** IPv6 literals need brackets in a URL. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
