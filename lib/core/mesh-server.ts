import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'socket.io';
import { ConnectionGate } from './admission/connection-gate.js';
import { LogOnce } from './admission/log-once.js';
import { acceptHandshake, refuseSocket } from './connection-handshake.js';
import type { MeshKeys } from './crypto/mesh-keys.js';
import type { Dispatcher, ReplySink } from './dispatcher.js';
import { MeshErrorCode } from './errors.js';
import type { MeshLogger } from './logger.js';
import { encode } from './protocol.js';
import { DEFAULTS } from './options/defaults.js';
import { SecureChannel } from './secure-channel.js';
import { createSocketServer, listen, type SocketServer } from './socket-server.js';
import { ConnectionTracker, graceDelay } from './connection-tracker.js';
import { nameMismatch, peerCertificateName } from './tls/certificate-identity.js';
import type { MeshTlsOptions } from './tls/tls-options.js';

export interface MeshServerOptions {
  self: { worker: string; variant: string };
  keys: MeshKeys;
  logger: MeshLogger;
  allow: readonly string[] | 'anyNode';
  maxFrameSize: number;
  handshakeTimeout: number;
  dispatcher: Dispatcher;
  /** Per address, new connections a second (default 100). */
  handshakesPerSecond?: number;
  /** Unauthenticated connections at once (default 256). */
  maxUnauthenticated?: number;
  /** TLS mode: callers must present a certificate from the CA, and are admitted only under its name. */
  tls?: MeshTlsOptions;
}

/** One admitted caller instance. */
class IncomingLink implements ReplySink {
  inFlight = 0;
  channel!: SecureChannel;
  constructor(
    readonly label: string,
    readonly socket: Socket,
    readonly caller: { worker: string; variant: string },
  ) {}
  send(json: string): void {
    this.channel.send(json);
  }
}

/**
 * This worker's own socket.io server, where callers dial in. Admission is decided here, by
 * this worker's own `allow`, after the caller proved the keys: the manager's word is not needed.
 *
 * Events: 'caller.connected' / 'caller.disconnected' with { worker, variant }.
 */
export class MeshServer extends EventEmitter {
  private readonly http: HttpServer;
  private readonly io: SocketServer;
  private readonly links = new Set<IncomingLink>();
  private readonly violationsLogged = new WeakSet<Socket>();
  private readonly refusals: LogOnce;
  private readonly connections: ConnectionTracker;

  constructor(private readonly options: MeshServerOptions) {
    super();
    ({ http: this.http, io: this.io } = createSocketServer({
      handshakeTimeout: options.handshakeTimeout,
      maxFrameSize: options.maxFrameSize,
      onRequest: (_req, res) => res.writeHead(404).end(),
      ...(options.tls ? { tls: options.tls } : {}),
      gate: new ConnectionGate({
        perSecond: options.handshakesPerSecond ?? DEFAULTS.handshakesPerSecond,
        maxUnauthenticated: options.maxUnauthenticated ?? DEFAULTS.maxUnauthenticated,
        logger: options.logger,
      }),
    }));
    this.refusals = new LogOnce(options.logger);
    this.connections = new ConnectionTracker(this.http);
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  get listening(): boolean {
    return this.http.listening;
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Loads socket.io (once per process) and attaches it; `listen()` does it too if it was not done. */
  load(): Promise<void> {
    return this.io.attach();
  }

  async listen(port: number, host?: string): Promise<number> {
    await listen(this.http, port, host);
    return this.port;
  }

  /** Tells every caller to choose another instance from now on; connections stay for answers in flight. */
  announceLeaving(): void {
    for (const link of this.links) {
      try {
        link.send(encode.leaving());
        link.channel.flush();
      } catch {
        // already gone
      }
    }
  }

  /** `graceMs`: how long connections get to close gracefully before they are destroyed. */
  async close(graceMs = 2000): Promise<void> {
    // io.close() discards what engine.io still buffers, which would lose the answers that
    // finished during the drain. So flush each channel and close each connection gracefully
    // (engine.io waits for its write buffer), bounded in time, before closing the server.
    const gone = [...this.links].map((link) => {
      link.channel.close();
      return new Promise<void>((resolve) => {
        if (link.socket.conn.readyState === 'closed') return resolve();
        link.socket.conn.once('close', () => resolve());
        link.socket.disconnect(true);
      });
    });
    this.links.clear();
    await Promise.race([Promise.all(gone), graceDelay(graceMs)]);
    // A caller across a partition never completes the close handshake: destroy what is left.
    this.connections.destroyAll();
    await new Promise<void>((resolve) => {
      void this.io.close(() => resolve());
    });
    this.connections.destroyAll();
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async onConnection(socket: Socket): Promise<void> {
    const { logger } = this.options;
    // TLS mode: the CA vouched for this name during the TLS handshake (undefined: a certificate naming nobody).
    const certName = this.options.tls ? peerCertificateName(socket.request.socket) : undefined;
    let accepted;
    try {
      accepted = await acceptHandshake(
        socket,
        this.options.keys,
        { role: 'callee', ...this.options.self },
        this.options.handshakeTimeout,
      );
    } catch (err) {
      // A caller with other keys retries forever: one warning per address, then debug.
      const address = socket.handshake.address;
      this.refusals.warn(address, `refused a connection from ${address}: ${(err as Error).message}`);
      return;
    }
    const { peer, session } = accepted;
    const label = `${peer.worker}/${peer.variant}`;
    const allow = this.options.allow;
    const admitted = peer.role === 'caller' && (allow === 'anyNode' || allow.includes(peer.worker));
    const mismatch = this.options.tls ? nameMismatch(certName, peer.worker) : undefined;
    const link = new IncomingLink(label, socket, { worker: peer.worker, variant: peer.variant });
    link.channel = new SecureChannel(socket, session, {
      maxFrameSize: this.options.maxFrameSize,
      onMessage: (message) => this.options.dispatcher.handle(link, message),
      onViolation: (reason) => {
        if (!this.violationsLogged.has(socket)) {
          this.violationsLogged.add(socket);
          logger.warn(`dropped ${label}: ${reason}`);
        }
      },
    });
    // Callers wait for WELCOME before sending anything, so early frames are never legitimate.
    accepted.takeEarlyFrames();
    const channel = link.channel;
    if (!admitted || mismatch) {
      const message =
        mismatch ?? `'${this.options.self.worker}' does not allow '${peer.worker}' (allow: ${JSON.stringify(allow)})`;
      // A key holder trying names: one warning per address and pair of names, then debug.
      if (mismatch) this.refusals.warn(`${socket.handshake.address} ${certName} ${peer.worker}`, `refused ${label}: ${message}`);
      else logger.warn(`refused ${label}: ${message}`);
      channel.send(encode.denied({ code: MeshErrorCode.ACCESS_DENIED, message }));
      channel.close();
      // In clear only a generic word: the allow list travels sealed, to a caller that proved the keys.
      refuseSocket(socket, { code: MeshErrorCode.ACCESS_DENIED, message: 'refused' });
      return;
    }
    this.links.add(link);
    socket.on('disconnect', () => {
      channel.close();
      if (this.links.delete(link)) this.emit('caller.disconnected', { worker: peer.worker, variant: peer.variant });
    });
    channel.send(encode.welcome());
    logger.debug(`admitted ${label}`);
    this.emit('caller.connected', { worker: peer.worker, variant: peer.variant });
  }
}
