import { EventEmitter } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'socket.io';
import { acceptHandshake, refuseSocket } from './connection-handshake.js';
import { DeferredMeshKeys } from './crypto/mesh-keys.js';
import { loadSocketIoServer } from './lazy-socket-io.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { createConsoleLogger, type MeshLogger } from './logger.js';
import { closeDiscoveryServer } from './manager/discovery-http.js';
import { validateHttpAuth } from './manager-http/http-auth.js';
import { ManagerHttp } from './manager-http/manager-http.js';
import { ConnectionGate } from './admission/connection-gate.js';
import { NearMissWatcher } from './manager/near-miss-watcher.js';
import { notifyListeners } from './manager/notify-listeners.js';
import { AdmissionQueue } from './manager/admission-queue.js';
import { ConnectionTracker, graceDelay } from './connection-tracker.js';
import { ManagerStats } from './manager/manager-stats.js';
import { pushTopology } from './manager/topology-push.js';
import { admitRegistration } from './manager/admit-registration.js';
import { sessionHeartbeat, WorkerRefusals, type WorkerSession } from './manager/worker-session.js';
import { livenessTimesOf, type LivenessTimes } from './node/link-liveness.js';
import { parseLinkReport, ReportedLinks } from './manager/reported-links.js';
import { entryOf, Registry, type RegistryEntry } from './manager/registry.js';
import { encode, Events, Msg, readManagerMessage } from './protocol.js';
import { validateMeshSchema, type NormalizedWorker } from './schema.js';
import { SecureChannel } from './secure-channel.js';
import { createSocketServer, listen, type SocketServer } from './socket-server.js';
import { DEFAULTS } from './options/defaults.js';
import { nameMismatch, peerCertificateName } from './tls/certificate-identity.js';
import { resolveManagerOptions } from './options/manager-options.js';

export type { ManagerEvents, ManagerOptions } from './manager/manager-types.js';
import type { ManagerEvents, ManagerOptions } from './manager/manager-types.js';

/**
 * Registers workers, keeps the registry and tells each worker which peers it may reach and
 * where. Never in the call path: its restart does not touch established peer links.
 */
export class Manager extends EventEmitter<ManagerEvents> {
  readonly #keys: DeferredMeshKeys;
  /** The HTTP routes (discovery, registry, topology page and its event stream). */
  readonly routes: ManagerHttp;
  private readonly logger: MeshLogger;
  private readonly http: HttpServer;
  private readonly io: SocketServer;
  private discovery: HttpServer | undefined;
  private readonly registry = new Registry();
  /** The live links each instance reports (soft state, dropped with the instance). */
  private readonly reported = new ReportedLinks();
  private readonly sessions = new Set<WorkerSession>();
  private readonly schema: Map<string, NormalizedWorker> | undefined;
  private readonly admission: AdmissionQueue;
  private readonly connections: ConnectionTracker;
  /** Counters for benchmarks and monitoring (topology messages sent, registrations). */
  readonly stats = new ManagerStats();
  private readonly refusals: WorkerRefusals;
  private readonly nearMisses: NearMissWatcher;
  private readonly maxFrameSize: number;
  private readonly handshakeTimeout: number;
  private readonly heartbeatTimes: LivenessTimes;
  private readonly startup: Promise<void>;
  private closed = false;

  private readonly options: ManagerOptions;

  constructor(options: ManagerOptions) {
    super();
    this.options = options = resolveManagerOptions(options);
    this.#keys = new DeferredMeshKeys(options.publicKey, options.privateKey);
    this.logger = options.logger ?? createConsoleLogger('Manager', options.logLevel);
    this.schema = options.schema === undefined ? undefined : validateMeshSchema(options.schema, { runs: null });
    this.maxFrameSize = options.maxFrameSize ?? DEFAULTS.maxFrameSize;
    this.handshakeTimeout = options.handshakeTimeout ?? DEFAULTS.handshakeTimeout;
    this.heartbeatTimes = livenessTimesOf(options);
    this.admission = new AdmissionQueue(options.registrationsPerSecond ?? DEFAULTS.registrationsPerSecond);
    this.refusals = new WorkerRefusals(this.logger);
    this.nearMisses = new NearMissWatcher(this.registry, this.logger, (name) => this.schema?.has(name) ?? false);
    this.routes = new ManagerHttp(
      { port: () => this.port, nodes: () => this.nodes(), reportedLinks: () => this.reported, events: this },
      validateHttpAuth(options.httpAuth),
    );
    ({ http: this.http, io: this.io } = createSocketServer({
      handshakeTimeout: this.handshakeTimeout,
      maxFrameSize: this.maxFrameSize,
      // No HTTP route on the socket port: discovery has its own port (or the Nest app).
      onRequest: (_req, res) => res.writeHead(404).end(),
      ...(options.tls ? { tls: options.tls } : {}),
      gate: new ConnectionGate({
        // Registrations are paced by the admission queue (they wait, not fail); the gate only
        // stops a flood far beyond that pace at the upgrade.
        perSecond: 10 * (options.registrationsPerSecond ?? DEFAULTS.registrationsPerSecond),
        maxUnauthenticated: options.maxUnauthenticated ?? DEFAULTS.maxUnauthenticated,
        logger: this.logger,
      }),
    }));
    this.connections = new ConnectionTracker(this.http);
    this.io.on('connection', (socket) => void this.onConnection(socket));
    this.startup = this.start();
    // The constructor starts the manager (seed API); a failed start must not be an unhandled rejection.
    this.startup.catch((err: Error) => this.logger.error(`manager failed to start: ${err.message}`));
  }

  /** Resolves once the socket port (and the discovery port, if any) listen. */
  ready(): Promise<void> {
    return this.startup;
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? 0;
  }

  get discoveryPort(): number | undefined {
    return (this.discovery?.address() as AddressInfo | null)?.port;
  }

  get listening(): boolean {
    return this.http.listening;
  }

  /** The registry as `GET /socket-mesh/nodes` shows it. */
  nodes(): RegistryEntry[] {
    return this.registry.entries();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.nearMisses.stop();
    await this.startup.catch(() => undefined);
    this.routes.close();
    for (const session of this.sessions) session.channel.close();
    this.sessions.clear();
    // Nothing to drain here: a short grace for the close frames, then no connection outlives close().
    const closed = new Promise<void>((resolve) => void this.io.close(() => resolve()));
    await Promise.race([closed, graceDelay(CLOSE_GRACE_MS)]);
    this.connections.destroyAll();
    await closed;
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await closeDiscoveryServer(this.discovery);
  }

  private async start(): Promise<void> {
    // socket.io loads while scrypt stretches the keys on the thread pool; no handshake before both.
    await Promise.all([this.#keys.ready, loadSocketIoServer()]);
    await listen(this.http, this.options.port ?? 0, this.options.host);
    this.logger.info(`manager listening on port ${this.port} (key ${this.#keys.keyId})`);
    const discoveryPort = this.options.discoveryPort ?? DEFAULTS.discoveryPort;
    if (discoveryPort !== false && (this.options.port === undefined || this.options.discoveryPort !== undefined)) {
      this.discovery = createServer((req, res) => this.routes.handle(req, res));
      await listen(this.discovery, discoveryPort, this.options.host);
      this.logger.info(`port discovery on http://${this.options.host ?? 'localhost'}:${this.discoveryPort}/socket-mesh/port`);
    }
  }

  private async onConnection(socket: Socket): Promise<void> {
    const address = socket.handshake.address;
    // Over the per-address pace: wait a turn (bounded); beyond the bound, a refusal workers retry.
    const turn = this.admission.reserve(address);
    if (turn === undefined) {
      refuseSocket(socket, { code: MeshErrorCode.OVERLOADED, message: 'too many registrations from this address; retry later' });
      return;
    }
    if (turn > 0) {
      // The worker's handshake deadline then waits for the turn (manager-link.ts).
      socket.emit(Events.WAIT, turn);
      if (!(await this.admission.wait(turn, () => this.closed || socket.disconnected))) return;
    }
    // TLS mode: the CA vouched for this name during the TLS handshake (undefined: a certificate naming nobody).
    const certName = this.options.tls ? peerCertificateName(socket.request.socket) : undefined;
    let accepted;
    try {
      accepted = await acceptHandshake(
        socket,
        this.#keys,
        { role: 'manager', worker: 'manager', variant: 'manager' },
        this.handshakeTimeout,
      );
    } catch (err) {
      this.refusals.handshakeFailed(socket, err as Error);
      return;
    }
    const { peer, session: keys } = accepted;
    const session = { socket } as WorkerSession;
    session.channel = new SecureChannel(socket, keys, {
      maxFrameSize: this.maxFrameSize,
      onMessage: (message) => this.onMessage(session, peer, message),
      onViolation: (reason) => this.logger.warn(`dropped ${peer.worker}/${peer.variant}: ${reason}`),
    });
    this.sessions.add(session);
    const registerTimer = setTimeout(() => {
      if (!session.instance) this.refusals.refuse(session, new MeshError(MeshErrorCode.AUTH_FAILED, 'no registration received'));
    }, this.handshakeTimeout);
    socket.on('disconnect', () => {
      session.heartbeat?.leave();
      clearTimeout(registerTimer);
      session.channel.close();
      this.sessions.delete(session);
      this.drop(session, 'disconnected');
    });
    if (peer.role !== 'worker') {
      accepted.takeEarlyFrames();
      this.refusals.refuse(session, new MeshError(MeshErrorCode.AUTH_FAILED, `a ${peer.role} cannot register`));
      return;
    }
    const mismatch = this.options.tls ? nameMismatch(certName, peer.worker) : undefined;
    if (mismatch) {
      // A key holder with a valid certificate for one worker registering as another: logged
      // once per address and pair of names, then at debug.
      accepted.takeEarlyFrames();
      const error = new MeshError(MeshErrorCode.ACCESS_DENIED, `worker ${mismatch}`);
      this.refusals.refuse(session, error, `${address} ${certName} ${peer.worker}`);
      return;
    }
    session.heartbeat = sessionHeartbeat(session, peer, address, this.heartbeatTimes, this.logger);
    // The worker registers right after its proof; that frame may already be here.
    session.channel.feed(accepted.takeEarlyFrames());
  }

  private onMessage(session: WorkerSession, peer: { worker: string; variant: string }, raw: unknown[]): void {
    const message = readManagerMessage(raw);
    session.heartbeat?.heard();
    if (message?.[0] === Msg.PING) {
      session.channel.send(encode.pong());
    } else if (message?.[0] === Msg.REGISTER) {
      if (session.instance) return;
      try {
        this.register(session, peer, message[1]);
      } catch (err) {
        this.refusals.refuse(session, err as MeshError);
      }
    } else if (message?.[0] === Msg.UNREGISTER) {
      this.drop(session, 'left');
    } else if (message?.[0] === Msg.LINKS) {
      // Before registration there is no instance to attach it to; a malformed report is ignored.
      const report = session.instance && parseLinkReport(message[1]);
      if (report && this.reported.set(session.instance!.variant, report))
        notifyListeners(this, 'links', [session.instance!.variant], this.logger, 'manager');
    }
  }

  private register(session: WorkerSession, peer: { worker: string; variant: string }, input: unknown): void {
    const instance = admitRegistration(input, peer, session.socket.handshake.address, this.schema, this.registry);
    const replaced = this.registry.add(instance);
    this.reported.delete(instance.variant); // a restarted instance reports its own links anew
    if (replaced) {
      const old = [...this.sessions].find((s) => s.instance === replaced);
      if (old) {
        this.logger.warn(`${peer.worker}/${peer.variant} registered again; dropping its older connection`);
        old.instance = undefined;
        this.refusals.refuse(
          old,
          new MeshError(MeshErrorCode.AUTH_FAILED, 'replaced by a newer registration of the same variant'),
        );
      }
    }
    session.instance = instance;
    session.channel.send(encode.registered({ variant: instance.variant, host: instance.host }));
    this.logger.info(`registered ${instance.worker}/${instance.variant} at ${instance.host}:${instance.port}`);
    this.nearMisses.schedule();
    this.stats.registrations++;
    pushTopology(this.sessions, this.registry, instance, this.stats, this.logger);
    this.notify('registered', entryOf(instance));
  }

  private drop(session: WorkerSession, why: string): void {
    const instance = session.instance;
    if (!instance) return;
    session.instance = undefined;
    if (this.registry.get(instance.variant) !== instance) return;
    this.registry.remove(instance.variant);
    this.reported.delete(instance.variant);
    this.logger.info(`${instance.worker}/${instance.variant} ${why}`);
    if (!this.closed) pushTopology(this.sessions, this.registry, instance, this.stats, this.logger);
    this.notify('unregistered', entryOf(instance));
  }

  /** A listener that throws (or rejects) is logged: it must not refuse or drop the worker. */
  private notify(event: 'registered' | 'unregistered', entry: RegistryEntry): void {
    notifyListeners(this, event, [entry], this.logger, 'manager');
    notifyListeners(this, 'change', [], this.logger, 'manager');
  }
}

const CLOSE_GRACE_MS = 500;
