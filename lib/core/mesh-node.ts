import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CommandSpec, CommandTable, LocalCommand } from './command-spec.js';
import { deriveMeshKeys, type MeshKeys } from './crypto/mesh-keys.js';
import { Dispatcher } from './dispatcher.js';
import { MeshError, MeshErrorCode, type MeshOutcome } from './errors.js';
import type { MeshLogger } from './logger.js';
import { ManagerLink, type ManagerAddress } from './manager-link.js';
import { MeshServer } from './mesh-server.js';
import { PeerGroup } from './peer-group.js';
import { PeerLink } from './peer-link.js';
import { suggestName } from './schema.js';
import type { PeerInfo, Registration, Topology } from './protocol.js';
import type { CommandQueue, QueueBackend } from './queue/command-queue.js';
import { createMemoryQueueBackend } from './queue/memory-queue.js';

/** Options of one call; every field optional. */
export interface CallOptions {
  /** ms; default: the command's own timeout, else the worker's, else 10 000. */
  timeout?: number;
  /** Only these variants may be chosen or reached. */
  only?: string | readonly string[];
  /** These variants are never chosen or reached. */
  exclude?: string | readonly string[];
  /** Broadcasts: resolve with every instance's outcome instead of rejecting on a failure. */
  settle?: boolean;
  /** Balanced: retry on MESH_PEER_DISCONNECTED / MESH_NO_PEER on another instance (idempotent commands only). */
  retries?: number;
}

/** A connected instance, as `peers()` lists it. */
export interface PeerDescriptor {
  worker: string;
  variant: string;
  host: string;
  port: number;
}

export interface MeshEventPayload {
  worker: string;
  variant: string;
  /** For peer events: 'outgoing' (a peer this worker calls) or 'incoming' (a caller of this worker). */
  direction?: 'outgoing' | 'incoming';
}

export interface MeshNodeOptions {
  worker: string;
  /** Unique in the mesh; stable across restarts when set. Default: a random id. */
  variant?: string;
  manager: ManagerAddress;
  /** This worker's own port for peers; 0 or undefined picks a free one. */
  meshPort?: number;
  /** Address the mesh server binds to (default all interfaces). */
  bindHost?: string;
  /** The address peers dial; default the address the manager sees. */
  advertiseHost?: string;
  allow: readonly string[] | 'anyNode';
  connect: readonly string[];
  commands: readonly LocalCommand[];
  publicKey: string;
  privateKey: string;
  logger: MeshLogger;
  /** Where queued broadcasts are stored; default in memory. Closed by the node. */
  queues?: QueueBackend;
  timeout?: number;
  maxFrameSize?: number;
  handshakeTimeout?: number;
  /** Requests one caller instance may have running here at once (default 4096). */
  maxInFlight?: number;
  /** Calls this node may have waiting on one peer instance (default 10 000). */
  maxPending?: number;
  /** How long close() waits for requests still running (default 5000 ms). */
  drainTimeout?: number;
}

export const DEFAULT_TIMEOUT = 10_000;

type Filter = ((variant: string) => boolean) | undefined;

/**
 * One worker instance: its mesh server (callers dial in), its link to the manager, and its
 * links to the peers it may call. Framework-free: the Nest module and the plain SocketNode
 * are thin shells around it.
 *
 * Events: 'connected', 'peer.connected', 'peer.disconnected' (MeshEventPayload).
 */
export class MeshNode extends EventEmitter {
  readonly worker: string;
  readonly variant: string;
  readonly keys: MeshKeys;
  readonly logger: MeshLogger;
  readonly server: MeshServer;
  private readonly managerLink: ManagerLink;
  private readonly dispatcher: Dispatcher;
  private readonly queues: QueueBackend;
  private readonly openQueues = new Map<string, CommandQueue>();
  private readonly groups = new Map<string, PeerGroup>();
  private readonly connectSet: Set<string>;
  private readonly changes = new EventEmitter();
  private denied = new Set<string>();
  /** Variants the manager's latest topology lists for this worker to dial. */
  private listedVariants = new Set<string>();
  private topologyReceived = false;
  private registeredOnce = false;
  private closing: Promise<void> | undefined;
  private readonly readyPromise: Promise<void>;
  private settleReady!: { resolve(): void; reject(err: Error): void };
  private readonly commandTable: CommandTable;
  private readonly defaultTimeout: number;

  constructor(private readonly options: MeshNodeOptions) {
    super();
    this.worker = options.worker;
    this.variant = options.variant ?? randomUUID();
    this.keys = deriveMeshKeys(options.publicKey, options.privateKey);
    this.logger = options.logger;
    this.connectSet = new Set(options.connect);
    this.defaultTimeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.changes.setMaxListeners(0);
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // ready() may never be awaited (a plain node that only serves): don't let it be unhandled.
    this.readyPromise.catch(() => undefined);
    this.commandTable = Object.create(null) as CommandTable;
    for (const c of options.commands) {
      const spec: CommandSpec = { kind: c.kind, responds: c.responds, queued: c.queued };
      if (c.timeout !== undefined) spec.timeout = c.timeout;
      if (c.retries !== undefined) spec.retries = c.retries;
      this.commandTable[c.name] = spec;
    }
    this.queues = options.queues ?? createMemoryQueueBackend({ logger: options.logger });
    const maxFrameSize = options.maxFrameSize ?? 1024 * 1024;
    this.dispatcher = new Dispatcher(options.commands, {
      logger: options.logger,
      maxInFlight: options.maxInFlight ?? 4096,
      queueFor: (command) => this.queueFor(command),
    });
    this.server = new MeshServer({
      self: { worker: this.worker, variant: this.variant },
      keys: this.keys,
      logger: options.logger,
      allow: options.allow,
      maxFrameSize,
      handshakeTimeout: options.handshakeTimeout ?? 5000,
      dispatcher: this.dispatcher,
    });
    this.server.on('caller.connected', (p: MeshEventPayload) => this.emit('peer.connected', { ...p, direction: 'incoming' }));
    this.server.on('caller.disconnected', (p: MeshEventPayload) => this.emit('peer.disconnected', { ...p, direction: 'incoming' }));
    this.managerLink = new ManagerLink(
      { manager: options.manager, keys: this.keys, logger: options.logger, maxFrameSize, registration: () => this.registration() },
      { worker: this.worker, variant: this.variant },
    );
    this.managerLink.on('registered', () => {
      const first = !this.registeredOnce;
      this.registeredOnce = true;
      this.logger.info(`${this.worker}/${this.variant} registered with the manager`);
      this.emit('connected', { worker: this.worker, variant: this.variant });
      if (first) this.settleReady.resolve();
      this.changes.emit('change');
    });
    this.managerLink.on('topology', (t: Topology) => this.onTopology(t));
    this.managerLink.on('refused', (err: MeshError) => {
      if (!this.registeredOnce) this.settleReady.reject(err);
    });
  }

  /** Starts the mesh server, opens the queues, then registers. Call once. */
  async start(): Promise<void> {
    await this.server.listen(this.options.meshPort ?? 0, this.options.bindHost);
    for (const command of this.options.commands) if (command.queued) this.queueFor(command);
    this.logger.info(`${this.worker}/${this.variant} serving peers on port ${this.server.port}`);
    this.managerLink.start();
  }

  /** Resolves once registered with the manager and the mesh server listens. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  get commands(): CommandTable {
    return this.commandTable;
  }

  /** Connected instances this worker can call, optionally of one worker name. */
  peers(worker?: string): PeerDescriptor[] {
    const out: PeerDescriptor[] = [];
    for (const group of this.groups.values()) {
      if (worker !== undefined && group.worker !== worker) continue;
      for (const link of group.ready()) {
        out.push({ worker: link.worker, variant: link.variant, host: link.info.host, port: link.info.port });
      }
    }
    return out;
  }

  /**
   * Calls `command` on `worker`, dispatched by the kind the target declares: balanced → its
   * answer; broadcast+responds → every answer; queued → { queued: n }; plain → { delivered: n }.
   */
  async call(worker: string, command: string, payload?: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.closing) throw new MeshError(MeshErrorCode.CLOSED, `${this.worker} is shutting down`, { worker, command });
    if (typeof worker !== 'string' || typeof command !== 'string') {
      throw new MeshError(MeshErrorCode.BAD_REQUEST, 'call(worker, command, ...) takes two strings', { worker, command });
    }
    if (!this.connectSet.has(worker)) {
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `'${this.worker}' may not call '${worker}': it is not in this worker's connect list${nearMiss(worker, this.connectSet)}`,
        { worker, command },
      );
    }
    const payloadJson = encodePayload(payload, worker, command);
    const filter = variantFilter(options);
    const started = Date.now();
    const provisional = options.timeout ?? this.defaultTimeout;
    checkTimeout(provisional, worker, command);
    if (options.retries !== undefined && !(Number.isInteger(options.retries) && options.retries >= 0)) {
      throw new MeshError(MeshErrorCode.BAD_REQUEST, `retries must be a whole number ≥ 0, got ${String(options.retries)}`, { worker, command });
    }
    // Usually an instance is up: take it without the wait loop's await and allocations.
    const known = this.groups.get(worker);
    const group =
      known && known.ready(filter).length > 0 ? known : await this.awaitGroup(worker, command, filter, started + provisional);
    const spec = group.spec(command);
    if (!spec) {
      throw new MeshError(MeshErrorCode.UNKNOWN_COMMAND, `'${worker}' has no command '${command}'`, { worker, command });
    }
    const timeout = options.timeout ?? spec.timeout ?? this.defaultTimeout;
    const remaining = Math.max(1, timeout - (Date.now() - started));
    if (spec.kind === 'balanced') {
      return this.callBalanced(group, command, payloadJson, filter, remaining, options.retries ?? spec.retries ?? 0, started + timeout);
    }
    return this.callBroadcast(group, command, payloadJson, filter, remaining, spec, options.settle === true);
  }

  /** Stops taking requests, lets running ones finish (up to drainTimeout), closes everything. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.dispatcher.startDraining();
    if (this.server.listening) this.server.announceLeaving();
    this.managerLink.unregister();
    const drainTimeout = this.options.drainTimeout ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.dispatcher.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (this.dispatcher.inFlight > 0) this.logger.warn(`${this.dispatcher.inFlight} requests still running after ${drainTimeout} ms; closing anyway`);
          resolve();
        }, drainTimeout);
      }),
    ]);
    clearTimeout(timer);
    this.settleReady.reject(new MeshError(MeshErrorCode.CLOSED, `${this.worker} closed before it registered`));
    for (const group of this.groups.values()) for (const link of group.links.values()) link.close();
    this.groups.clear();
    this.managerLink.close();
    this.changes.emit('change');
    await this.server.close();
    await Promise.all([...this.openQueues.values()].map((q) => q.close(drainTimeout)));
    await this.queues.close();
  }

  private registration(): Registration {
    return {
      worker: this.worker,
      variant: this.variant,
      host: this.options.advertiseHost ?? null,
      port: this.server.port,
      allow: this.options.allow === 'anyNode' ? 'anyNode' : [...this.options.allow],
      connect: [...this.options.connect],
      commands: this.commandTable,
    };
  }

  private queueFor(command: LocalCommand): CommandQueue {
    let queue = this.openQueues.get(command.name);
    if (!queue) {
      queue = this.queues.open({ worker: this.worker, command: command.name, variant: this.variant }, command.handler);
      this.openQueues.set(command.name, queue);
    }
    return queue;
  }

  private onTopology(topology: Topology): void {
    if (this.closing) return;
    this.topologyReceived = true;
    this.denied = new Set(topology.denied);
    const listed = new Map<string, PeerInfo>();
    for (const peer of topology.peers) if (this.connectSet.has(peer.worker)) listed.set(peer.variant, peer);
    this.listedVariants = new Set(listed.keys());
    for (const group of this.groups.values()) {
      for (const [variant, link] of group.links) {
        const info = listed.get(variant);
        if (info && info.host === link.info.host && info.port === link.info.port) {
          link.info = info; // commands may have changed
          group.changed();
          listed.delete(variant);
        } else if (info || (link.state !== 'ready' && link.state !== 'leaving')) {
          // Gone from the registry and not connected, or moved: drop it. A connected link
          // stays even when the manager forgot it (a manager restart must not cut traffic).
          this.removeLink(group, link);
        }
      }
    }
    for (const info of listed.values()) this.addLink(info);
    this.changes.emit('change');
  }

  private addLink(info: PeerInfo): void {
    let group = this.groups.get(info.worker);
    if (!group) {
      group = new PeerGroup(info.worker);
      this.groups.set(info.worker, group);
    }
    const link = new PeerLink(info, {
      self: { worker: this.worker, variant: this.variant },
      keys: this.keys,
      logger: this.logger,
      maxFrameSize: this.options.maxFrameSize ?? 1024 * 1024,
      maxPending: this.options.maxPending ?? 10_000,
    });
    const payload = { worker: info.worker, variant: info.variant, direction: 'outgoing' as const };
    // A graceful leave is 'down' twice (LEAVING, then the disconnect): report it once.
    let up = false;
    link.on('ready', () => {
      up = true;
      this.groups.get(info.worker)?.changed();
      this.logger.debug(`connected to ${info.worker}/${info.variant}`);
      this.emit('peer.connected', payload);
      this.changes.emit('change');
    });
    link.on('down', () => {
      this.groups.get(info.worker)?.changed();
      if (up) {
        up = false;
        this.logger.info(`lost ${info.worker}/${info.variant}`);
        this.emit('peer.disconnected', payload);
      }
      // Kept while connected although the manager no longer lists it (see onTopology); now that
      // it is disconnected too, nothing will bring it back: stop dialing it, so callers get
      // MESH_NO_PEER at once instead of waiting their whole timeout on a dead address.
      // After the link's own disconnect handling (which arms its retry timer; close() clears it).
      queueMicrotask(() => {
        const current = this.groups.get(info.worker);
        if (link.state === 'connecting' && !this.listedVariants.has(info.variant) && current?.links.get(info.variant) === link) {
          this.removeLink(current, link);
          this.changes.emit('change');
        }
      });
      this.changes.emit('change');
    });
    link.on('denied', () => {
      this.denied.add(info.worker);
      this.changes.emit('change');
    });
    group.links.set(info.variant, link);
    group.changed();
  }

  private removeLink(group: PeerGroup, link: PeerLink): void {
    group.links.delete(link.variant);
    group.changed();
    link.removeAllListeners('ready');
    link.close();
    if (group.links.size === 0) this.groups.delete(group.worker);
  }

  /** The group of `worker` once it has a ready instance; waits while one is being dialed. */
  private async awaitGroup(worker: string, command: string, filter: Filter, deadline: number): Promise<PeerGroup> {
    for (;;) {
      if (this.closing) throw new MeshError(MeshErrorCode.CLOSED, `${this.worker} is shutting down`, { worker, command });
      const group = this.groups.get(worker);
      if (group && group.ready(filter).length > 0) return group;
      const waiting = !this.topologyReceived || (group?.hasConnecting(filter) ?? false);
      if (!waiting) {
        if (this.denied.has(worker)) {
          throw new MeshError(MeshErrorCode.ACCESS_DENIED, `'${worker}' does not allow '${this.worker}' to connect`, { worker, command });
        }
        throw new MeshError(MeshErrorCode.NO_PEER, `no instance of '${worker}' is connected${filter ? ' (after only/exclude)' : ''}`, {
          worker,
          command,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new MeshError(
          MeshErrorCode.NO_PEER,
          this.topologyReceived ? `no instance of '${worker}' became reachable in time` : 'not registered with the manager yet',
          { worker, command },
        );
      }
      await this.nextChange(left);
    }
  }

  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.changes.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.changes.on('change', done);
    });
  }

  private async callBalanced(
    group: PeerGroup,
    command: string,
    payloadJson: string | undefined,
    filter: Filter,
    timeout: number,
    retries: number,
    deadline: number,
  ): Promise<unknown> {
    if (retries === 0) {
      const link = group.next(filter, hasRoom);
      if (!link) throw new MeshError(MeshErrorCode.NO_PEER, `no instance of '${group.worker}' is connected`, { worker: group.worker, command });
      return link.request(command, payloadJson, timeout);
    }
    const tried = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const avoid: Filter = tried.size === 0 ? filter : (v) => !tried.has(v) && (!filter || filter(v));
      const link = group.next(avoid, hasRoom) ?? (tried.size > 0 ? group.next(filter, hasRoom) : undefined);
      if (!link) {
        throw new MeshError(MeshErrorCode.NO_PEER, `no instance of '${group.worker}' is connected`, { worker: group.worker, command });
      }
      try {
        return await link.request(command, payloadJson, attempt === 0 ? timeout : Math.max(1, deadline - Date.now()));
      } catch (err) {
        const code = (err as MeshError).code;
        const retryable = code === MeshErrorCode.PEER_DISCONNECTED || code === MeshErrorCode.NO_PEER;
        if (!retryable || attempt >= retries || Date.now() >= deadline) throw err;
        tried.add(link.variant);
        this.logger.debug(`retrying '${command}' after ${code} from ${link.variant}`);
        if (group.ready(filter).length === 0) {
          // The group may have been replaced meanwhile (its last link dropped, a new one added):
          // go on with the one that has a ready instance, not the stale one.
          group = await this.awaitGroup(group.worker, command, filter, deadline);
        }
      }
    }
  }

  private async callBroadcast(
    group: PeerGroup,
    command: string,
    payloadJson: string | undefined,
    filter: Filter,
    timeout: number,
    spec: CommandSpec,
    settle: boolean,
  ): Promise<unknown> {
    const links = group.ready(filter);
    const settled = await Promise.allSettled(links.map((link) => link.request(command, payloadJson, timeout)));
    const outcomes: MeshOutcome[] = settled.map((r, i) =>
      r.status === 'fulfilled'
        ? { worker: group.worker, variant: links[i].variant, status: 'fulfilled', value: r.value }
        : { worker: group.worker, variant: links[i].variant, status: 'rejected', error: asMeshError(r.reason, group.worker, command) },
    );
    if (settle) return outcomes;
    const failed = outcomes.filter((o) => o.status === 'rejected');
    const ok = outcomes.length - failed.length;
    // A plain broadcast only reports how many took it; it fails only when none did.
    const tolerate = !spec.responds && !spec.queued && ok > 0;
    if (failed.length > 0 && !tolerate) {
      const first = failed[0] as Extract<MeshOutcome, { status: 'rejected' }>;
      throw new MeshError(
        MeshErrorCode.PARTIAL_FAILURE,
        `${failed.length} of ${outcomes.length} instances of '${group.worker}' failed '${command}' (first: ${first.error.code} ${first.error.message})`,
        { worker: group.worker, command, outcomes },
      );
    }
    if (spec.responds) return outcomes.map((o) => (o as Extract<MeshOutcome, { status: 'fulfilled' }>).value);
    return spec.queued ? { queued: ok } : { delivered: ok };
  }
}

/** An instance whose link is at its maxPending limit is passed over while another has room. */
const hasRoom = (link: PeerLink): boolean => link.hasRoom;

function nearMiss(name: string, known: Iterable<string>): string {
  const hint = suggestName(name, known);
  return hint ? ` (did you mean '${hint}'?)` : '';
}

function asMeshError(err: unknown, worker: string, command: string): MeshError {
  if (err instanceof MeshError) return err;
  return new MeshError(MeshErrorCode.REMOTE_ERROR, err instanceof Error ? err.message : String(err), { worker, command });
}

function encodePayload(payload: unknown, worker: string, command: string): string | undefined {
  if (payload === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `payload is not serialisable: ${(err as Error).message}`, { worker, command });
  }
  if (json === undefined) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `payload of type ${typeof payload} is not serialisable`, { worker, command });
  }
  return json;
}

function checkTimeout(timeout: unknown, worker: string, command: string): void {
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new MeshError(MeshErrorCode.BAD_REQUEST, `timeout must be a positive number of ms, got ${String(timeout)}`, { worker, command });
  }
}

function toList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

function variantFilter(options: CallOptions): Filter {
  const only = toList(options.only);
  const exclude = toList(options.exclude);
  if (!only && !exclude) return undefined;
  return (variant) => (!only || only.includes(variant)) && (!exclude || !exclude.includes(variant));
}
