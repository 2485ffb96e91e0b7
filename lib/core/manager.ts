import { EventEmitter } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server, Socket } from 'socket.io';
import type { CommandSpec, CommandTable } from './command-spec.js';
import { acceptHandshake, refuseSocket } from './connection-handshake.js';
import { deriveMeshKeys, type MeshKeys } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { createConsoleLogger, type LogLevel, type MeshLogger } from './logger.js';
import { validateHttpAuth, type ManagerHttpAuth } from './manager-http/http-auth.js';
import { ManagerHttp } from './manager-http/manager-http.js';
import { Msg, type Registration } from './protocol.js';
import { Registry, type RegisteredInstance, type RegistryEntry } from './registry.js';
import { suggestName, validateMeshSchema, validateRights, type MeshSchema, type NormalizedWorker } from './schema.js';
import { SecureChannel } from './secure-channel.js';
import { createSocketServer, listen } from './socket-server.js';

export interface ManagerOptions {
  publicKey: string;
  privateKey: string;
  /** Socket port workers connect to; undefined or 0 picks a free one (then discover it over HTTP). */
  port?: number;
  /** Bind address; default all interfaces. */
  host?: string;
  /** The whole schema, when the manager should hold workers to it (seed object format). */
  schema?: MeshSchema;
  /**
   * Port of the small HTTP server answering `GET /socket-mesh/port` when `port` is undefined
   * (default 8765, as the seed); `false` turns it off (the Nest module serves it instead).
   * Given explicitly, it is started even when `port` is set: it also serves the topology page.
   */
  discoveryPort?: number | false;
  /** Bearer token for the registry, topology and event routes (the port route and the page shell stay open). */
  httpAuth?: ManagerHttpAuth;
  logLevel?: LogLevel;
  logger?: MeshLogger;
  /** Handshake must finish within this many ms (default 5000). */
  handshakeTimeout?: number;
  /** Largest frame accepted, bytes (default 1 MiB). */
  maxFrameSize?: number;
  /** Registrations accepted per second per remote address (default 100). */
  registrationsPerSecond?: number;
}

interface Session {
  socket: Socket;
  channel: SecureChannel;
  instance?: RegisteredInstance;
  lastTopology?: string;
}

const MAX_NAME = 256;
const NEAR_MISS_GRACE_MS = 5000;

/**
 * Registers workers, keeps the registry and tells each worker which peers it may reach and
 * where. Never in the call path: its restart does not touch established peer links.
 */
export class Manager extends EventEmitter {
  readonly keys: MeshKeys;
  /** The HTTP routes (discovery, registry, topology page and its event stream). */
  readonly routes: ManagerHttp;
  private readonly logger: MeshLogger;
  private readonly http: HttpServer;
  private readonly io: Server;
  private discovery: HttpServer | undefined;
  private readonly registry = new Registry();
  private readonly sessions = new Set<Session>();
  private readonly schema: Map<string, NormalizedWorker> | undefined;
  private readonly warned = new Set<string>();
  private readonly rate = new Map<string, { second: number; count: number }>();
  private readonly maxFrameSize: number;
  private readonly handshakeTimeout: number;
  private readonly startup: Promise<void>;
  private closed = false;
  private nearMissTimer: NodeJS.Timeout | undefined;
  private readonly refusedAddresses = new Set<string>();

  constructor(private readonly options: ManagerOptions) {
    super();
    this.keys = deriveMeshKeys(options.publicKey, options.privateKey);
    this.logger = options.logger ?? createConsoleLogger('Manager', options.logLevel);
    this.schema = options.schema === undefined ? undefined : validateMeshSchema(options.schema);
    this.maxFrameSize = options.maxFrameSize ?? 1024 * 1024;
    this.handshakeTimeout = options.handshakeTimeout ?? 5000;
    this.routes = new ManagerHttp({ port: () => this.port, nodes: () => this.nodes(), events: this }, validateHttpAuth(options.httpAuth));
    ({ http: this.http, io: this.io } = createSocketServer({
      handshakeTimeout: this.handshakeTimeout,
      maxFrameSize: this.maxFrameSize,
      onRequest: (req, res) => this.routes.handle(req, res, { streams: false }),
    }));
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
    clearTimeout(this.nearMissTimer);
    await this.startup.catch(() => undefined);
    this.routes.close();
    for (const session of this.sessions) session.channel.close();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
    const discovery = this.discovery;
    if (discovery?.listening) {
      discovery.closeAllConnections();
      await new Promise<void>((resolve) => discovery.close(() => resolve()));
    }
  }

  private async start(): Promise<void> {
    await listen(this.http, this.options.port ?? 0, this.options.host);
    this.logger.info(`manager listening on port ${this.port} (key ${this.keys.keyId})`);
    const discoveryPort = this.options.discoveryPort ?? 8765;
    if (discoveryPort !== false && (this.options.port === undefined || this.options.discoveryPort !== undefined)) {
      this.discovery = createServer((req, res) => this.routes.handle(req, res));
      await listen(this.discovery, discoveryPort, this.options.host);
      this.logger.info(`port discovery on http://${this.options.host ?? 'localhost'}:${this.discoveryPort}/socket-mesh/port`);
    }
  }

  private overRate(address: string): boolean {
    const limit = this.options.registrationsPerSecond ?? 100;
    const second = Math.floor(Date.now() / 1000);
    const entry = this.rate.get(address);
    if (!entry || entry.second !== second) {
      if (this.rate.size > 10_000) this.rate.clear();
      this.rate.set(address, { second, count: 1 });
      return false;
    }
    return ++entry.count > limit;
  }

  private async onConnection(socket: Socket): Promise<void> {
    const address = socket.handshake.address;
    if (this.overRate(address)) {
      refuseSocket(socket, { code: MeshErrorCode.ACCESS_DENIED, message: 'too many registrations from this address; retry later' });
      return;
    }
    let accepted;
    try {
      accepted = await acceptHandshake(socket, this.keys, { role: 'manager', worker: 'manager', variant: 'manager' }, this.handshakeTimeout);
    } catch (err) {
      // A worker with other keys retries forever: one warning per address, then debug.
      const line = `refused a connection from ${address}: ${(err as Error).message}`;
      const key = `${address} ${claimedWorker(socket)}`;
      if (this.refusedAddresses.has(key)) this.logger.debug(line);
      else {
        if (this.refusedAddresses.size > 10_000) this.refusedAddresses.clear();
        this.refusedAddresses.add(key);
        this.logger.warn(line);
      }
      return;
    }
    const { peer, session: keys } = accepted;
    const session = { socket } as Session;
    session.channel = new SecureChannel(
      socket,
      keys,
      {
        maxFrameSize: this.maxFrameSize,
        onMessage: (message) => this.onMessage(session, peer, message),
        onViolation: (reason) => this.logger.warn(`dropped ${peer.worker}/${peer.variant}: ${reason}`),
      },
    );
    this.sessions.add(session);
    const registerTimer = setTimeout(() => {
      if (!session.instance) this.refuse(session, new MeshError(MeshErrorCode.AUTH_FAILED, 'no registration received'));
    }, this.handshakeTimeout);
    socket.on('disconnect', () => {
      clearTimeout(registerTimer);
      session.channel.close();
      this.sessions.delete(session);
      this.drop(session, 'disconnected');
    });
    if (peer.role !== 'worker') {
      accepted.takeEarlyFrames();
      this.refuse(session, new MeshError(MeshErrorCode.AUTH_FAILED, `a ${peer.role} cannot register`));
      return;
    }
    // The worker registers right after its proof; that frame may already be here.
    session.channel.feed(accepted.takeEarlyFrames());
  }

  private onMessage(session: Session, peer: { worker: string; variant: string }, message: unknown[]): void {
    if (message[0] === Msg.REGISTER) {
      if (session.instance) return;
      try {
        this.register(session, peer, message[1]);
      } catch (err) {
        this.refuse(session, err as MeshError);
      }
    } else if (message[0] === Msg.UNREGISTER) {
      this.drop(session, 'left');
    }
  }

  private register(session: Session, peer: { worker: string; variant: string }, input: unknown): void {
    const registration = parseRegistration(input);
    // Names are bound by the handshake proof; a registration may not claim another identity.
    if (registration.worker !== peer.worker || registration.variant !== peer.variant) {
      throw new MeshError(MeshErrorCode.AUTH_FAILED, 'registration does not match the identity proven in the handshake');
    }
    if (this.schema) this.checkAgainstSchema(registration);
    const holder = this.registry.get(registration.variant);
    if (holder && holder.worker !== registration.worker) {
      // A restart may take over its own variant, never another worker's.
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `variant '${registration.variant}' belongs to a registered '${holder.worker}', not '${registration.worker}'`,
      );
    }
    const host = registration.host ?? stripMappedPrefix(session.socket.handshake.address);
    const instance: RegisteredInstance = { ...registration, host, registeredAt: Date.now() };
    const replaced = this.registry.add(instance);
    if (replaced) {
      const old = [...this.sessions].find((s) => s.instance === replaced);
      if (old) {
        this.logger.warn(`${peer.worker}/${peer.variant} registered again; dropping its older connection`);
        old.instance = undefined;
        this.refuse(old, new MeshError(MeshErrorCode.AUTH_FAILED, 'replaced by a newer registration of the same variant'));
      }
    }
    session.instance = instance;
    session.channel.send(JSON.stringify([Msg.REGISTERED, { variant: instance.variant, host }]));
    this.logger.info(`registered ${instance.worker}/${instance.variant} at ${host}:${instance.port}`);
    this.scheduleNearMissCheck();
    this.pushTopology();
    this.emit('registered', { worker: instance.worker, variant: instance.variant });
  }

  private checkAgainstSchema(registration: Registration): void {
    const schema = this.schema!;
    const def = schema.get(registration.worker);
    if (!def) {
      const hint = suggestName(registration.worker, schema.keys());
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `worker '${registration.worker}' is not in the manager's schema${hint ? ` (did you mean '${hint}'?)` : ''}`,
      );
    }
    const extraConnect = registration.connect.filter((n) => !def.connect.includes(n));
    if (extraConnect.length > 0) {
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `worker '${registration.worker}' claims connect ${JSON.stringify(extraConnect)} which the manager's schema does not give it`,
      );
    }
    if (def.allow !== 'anyNode') {
      const claimed = registration.allow === 'anyNode' ? ['anyNode'] : registration.allow.filter((n) => !(def.allow as string[]).includes(n));
      if (claimed.length > 0) {
        throw new MeshError(
          MeshErrorCode.ACCESS_DENIED,
          `worker '${registration.worker}' claims allow ${JSON.stringify(claimed)} which the manager's schema does not give it`,
        );
      }
    }
  }

  private refuse(session: Session, error: MeshError): void {
    this.logger.warn(`refused ${session.socket.handshake.address}: ${error.message}`);
    try {
      session.channel.send(JSON.stringify([Msg.REFUSED, error.toJSON()]));
    } catch {
      // channel already closed
    }
    session.channel.close();
    session.socket.disconnect(true);
  }

  private drop(session: Session, why: string): void {
    const instance = session.instance;
    if (!instance) return;
    session.instance = undefined;
    if (this.registry.get(instance.variant) !== instance) return;
    this.registry.remove(instance.variant);
    this.logger.info(`${instance.worker}/${instance.variant} ${why}`);
    this.pushTopology();
    this.emit('unregistered', { worker: instance.worker, variant: instance.variant });
  }

  /** Sends each worker its topology when it changed since the last one it got. */
  private pushTopology(): void {
    if (this.closed) return;
    for (const session of this.sessions) {
      if (!session.instance) continue;
      const json = JSON.stringify([Msg.TOPOLOGY, this.registry.topologyFor(session.instance)]);
      if (json === session.lastTopology) continue;
      session.lastTopology = json;
      try {
        session.channel.send(json);
      } catch (err) {
        this.logger.warn(`topology for ${session.instance.worker} not sent: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Workers start in any order, so a name that is missing right now may register in a moment:
   * look for typos once registrations have been quiet for a while.
   */
  private scheduleNearMissCheck(): void {
    clearTimeout(this.nearMissTimer);
    this.nearMissTimer = setTimeout(() => this.warnNearMisses(), NEAR_MISS_GRACE_MS);
    this.nearMissTimer.unref();
  }

  /** A Nest worker knows only its own part of the schema, so a typo shows only here. */
  private warnNearMisses(): void {
    if (this.closed) return;
    const names = this.registry.workerNames();
    for (const instance of this.registry.list()) {
      const named = [...instance.connect, ...(instance.allow === 'anyNode' ? [] : instance.allow)];
      for (const name of named) {
        // A name the manager's schema defines is not a typo, only a worker that has not come up yet.
        if (names.has(name) || this.schema?.has(name)) continue;
        const hint = suggestName(name, [...names].filter((n) => n !== instance.worker));
        const key = `${instance.worker}->${name}`;
        if (hint && !this.warned.has(key)) {
          this.warned.add(key);
          this.logger.warn(`worker '${instance.worker}' names '${name}', which never registered; did you mean '${hint}'?`);
        }
      }
    }
  }
}

/** The worker name a connecting socket claims (unverified: for log de-duplication only). */
function claimedWorker(socket: Socket): string {
  const hello = (socket.handshake.auth as { hello?: { worker?: unknown } } | undefined)?.hello;
  return typeof hello?.worker === 'string' ? hello.worker.slice(0, 256) : '?';
}

function stripMappedPrefix(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function badRegistration(why: string): MeshError {
  return new MeshError(MeshErrorCode.SCHEMA_INVALID, `invalid registration: ${why}`);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME;
}

/** Registrations come from the network: check every field before it reaches the registry. */
export function parseRegistration(input: unknown): Registration {
  if (typeof input !== 'object' || input === null) throw badRegistration('not an object');
  const r = input as Record<string, unknown>;
  if (!isName(r.worker)) throw badRegistration('worker');
  if (!isName(r.variant)) throw badRegistration('variant');
  if (r.host !== null && !isName(r.host)) throw badRegistration('host');
  if (typeof r.port !== 'number' || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw badRegistration('port');
  let rights;
  try {
    rights = validateRights(r.worker, { allow: r.allow, connect: r.connect });
  } catch (err) {
    throw badRegistration((err as Error).message);
  }
  if (typeof r.commands !== 'object' || r.commands === null || Array.isArray(r.commands)) throw badRegistration('commands');
  const commands: CommandTable = Object.create(null);
  for (const [name, spec] of Object.entries(r.commands as Record<string, unknown>)) {
    if (!isName(name)) throw badRegistration(`command name`);
    commands[name] = parseSpec(name, spec);
  }
  return { worker: r.worker, variant: r.variant, host: (r.host as string | null) ?? null, port: r.port, ...rights, commands };
}

function parseSpec(name: string, input: unknown): CommandSpec {
  if (typeof input !== 'object' || input === null) throw badRegistration(`command '${name}'`);
  const s = input as Record<string, unknown>;
  if (s.kind !== 'balanced' && s.kind !== 'broadcast') throw badRegistration(`command '${name}' kind`);
  const spec: CommandSpec = { kind: s.kind, responds: s.responds === true, queued: s.queued === true };
  if (typeof s.timeout === 'number' && s.timeout > 0) spec.timeout = s.timeout;
  if (typeof s.retries === 'number' && Number.isInteger(s.retries) && s.retries >= 0) spec.retries = s.retries;
  return spec;
}
