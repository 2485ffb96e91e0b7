import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { commandTableOf, type CommandTable, type LocalCommand } from './command-spec.js';
import { DeferredMeshKeys } from './crypto/mesh-keys.js';
import { Dispatcher } from './dispatcher.js';
import { MeshError, MeshErrorCode } from './errors.js';
import { formatDuration } from './failure-log.js';
import { certificateNameWarning } from './tls/tls-options.js';
import { loadSocketIoClient } from './lazy-socket-io.js';
import type { MeshLogger } from './logger.js';
import { managerList, ManagerSet } from './node/manager-set.js';
import { MeshServer } from './mesh-server.js';
import type { PeerLink } from './peer-link.js';
import { CallRouter } from './node/call-router.js';
import { DEFAULTS } from './options/defaults.js';
import { FirstRegistration } from './node/first-registration.js';
import { PeerDirectory } from './node/peer-directory.js';
import { LinkReporter } from './node/link-reporter.js';
import { MAX_REPORTED_LINKS } from './manager/reported-links.js';
import { startLine } from './node/start-line.js';
import { waitForPeers, type WaitForOptions } from './node/wait-for-peers.js';
import type { CallOptions, MeshEventPayload, MeshNodeOptions, PeerDescriptor } from './node/types.js';
import type { Registration, Topology } from './protocol.js';
import type { CommandQueue, QueueBackend } from './queue/command-queue.js';
import { createMemoryQueueBackend } from './queue/memory-queue.js';
import { livenessTimesOf } from './node/link-liveness.js';
import { observeCall } from './telemetry/client-telemetry.js';
import { observeQueued } from './telemetry/server-telemetry.js';
import { enableTelemetry, gaugeSources, telemetry, type GaugeSource } from './telemetry/telemetry-state.js';

// The node's public types live with its parts; this module stays the place to import them from.
export type { CallOptions, MeshEventPayload, MeshNodeOptions, PeerDescriptor } from './node/types.js';
export type { WaitForOptions } from './node/wait-for-peers.js';

/**
 * One worker instance: its mesh server (callers dial in) with the dispatcher running its
 * commands, its link to the manager, the directory of peers it may call and the router that
 * picks among them. Framework-free: the Nest module and the plain SocketNode are thin shells
 * around it.
 *
 * Events: 'connected', 'peer.connected', 'peer.disconnected' (MeshEventPayload).
 */
export class MeshNode extends EventEmitter {
  readonly worker: string;
  readonly variant: string;
  readonly #keys: DeferredMeshKeys;
  readonly logger: MeshLogger;
  readonly server: MeshServer;
  private readonly managerLink: ManagerSet;
  private readonly dispatcher: Dispatcher;
  private readonly directory: PeerDirectory;
  private readonly router: CallRouter<PeerLink>;
  private readonly queues: QueueBackend;
  private readonly openQueues = new Map<string, CommandQueue>();
  /** What this node reports to the observable gauges while it runs (telemetry on). */
  private readonly gauges: GaugeSource = {
    peers: () => this.options.connect.map((w): [string, number] => [w, this.directory.group(w)?.ready().length ?? 0]),
    queues: () =>
      [...this.openQueues].flatMap(([command, q]): Array<[string, string, number]> =>
        q.waitingCount ? [[this.worker, command, q.waitingCount()]] : [],
      ),
  };
  private readonly linkReporter: LinkReporter;
  private closing: Promise<void> | undefined;
  private readonly firstRegistration = new FirstRegistration();
  private readonly commandTable: CommandTable;
  /** Resolves once the mesh server listens (keys derived): the manager link registers only then. */
  private readonly serving: Promise<void>;
  private markServing!: () => void;
  private managerLinkStarted = false;

  constructor(private readonly options: MeshNodeOptions) {
    super();
    this.worker = options.worker;
    this.variant = options.variant ?? randomUUID();
    this.#keys = new DeferredMeshKeys(options.publicKey, options.privateKey);
    this.logger = options.logger;
    const refusal = certificateNameWarning(options.tls, this.worker);
    if (refusal) this.logger.warn(refusal);
    this.commandTable = commandTableOf(options.commands);
    this.queues = options.queues ?? createMemoryQueueBackend({ logger: options.logger });
    const maxFrameSize = options.maxFrameSize ?? DEFAULTS.maxFrameSize;
    const self = { worker: this.worker, variant: this.variant };
    const connect = new Set(options.connect);
    const heartbeat = livenessTimesOf(options);
    this.dispatcher = new Dispatcher(options.commands, {
      logger: options.logger,
      maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
      queueFor: (command) => this.queueFor(command),
      worker: this.worker,
    });
    this.server = new MeshServer({
      self,
      keys: this.#keys,
      logger: options.logger,
      allow: options.allow,
      maxFrameSize,
      handshakeTimeout: options.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
      handshakesPerSecond: options.handshakesPerSecond,
      maxUnauthenticated: options.maxUnauthenticated,
      dispatcher: this.dispatcher,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    this.server.on('caller.connected', (p: MeshEventPayload) => this.emit('peer.connected', { ...p, direction: 'incoming' }));
    this.server.on('caller.disconnected', (p: MeshEventPayload) =>
      this.emit('peer.disconnected', { ...p, direction: 'incoming' }),
    );
    this.directory = new PeerDirectory({
      self,
      keys: this.#keys,
      logger: options.logger,
      connect,
      maxFrameSize,
      maxPending: options.maxPending ?? DEFAULTS.maxPending,
      handshakeTimeout: options.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
      heartbeat,
      ...(options.tls ? { tls: options.tls } : {}),
      onPeerEvent: (event, payload) => this.emit(event, payload),
      onChange: () => this.linkReporter.changed(),
    });
    this.router = new CallRouter(this.directory, {
      worker: this.worker,
      connect,
      timeout: options.timeout ?? DEFAULTS.timeout,
      logger: options.logger,
      closing: () => this.closing !== undefined,
    });
    this.serving = new Promise<void>((resolve) => (this.markServing = resolve));
    this.managerLink = new ManagerSet(
      managerList(options.manager),
      {
        keys: this.#keys,
        logger: options.logger,
        maxFrameSize,
        handshakeTimeout: options.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
        registration: () => this.registration(),
        canRegister: this.serving,
        heartbeat,
        ...(options.tls ? { tls: options.tls } : {}),
      },
      self,
    );
    this.linkReporter = new LinkReporter(
      () => this.directory.linkReport(MAX_REPORTED_LINKS),
      (report) => this.managerLink.reportLinks(report),
    );
    this.managerLink.on('registered', () => {
      this.logger.info(`${this.worker}/${this.variant} registered with the manager`);
      this.emit('connected', { worker: this.worker, variant: this.variant });
      this.firstRegistration.registered();
      this.directory.changed();
    });
    this.managerLink.on('topology', (t: Topology) => {
      if (!this.closing) this.directory.applyTopology(t);
    });
    this.managerLink.on('refused', (err: MeshError) => {
      this.firstRegistration.failed(err);
    });
  }

  /**
   * Starts the mesh server, opens the queues, then registers. Call once (again after it failed).
   * The manager connection opens while socket.io's server side loads and scrypt runs on the
   * thread pool; its handshake waits for the keys and the port (bench/README.md, "Start-up").
   */
  async start(): Promise<void> {
    await enableTelemetry();
    // close() may come while the loads below are awaited: then nothing may start after it.
    if (this.closing) return;
    gaugeSources.add(this.gauges);
    await loadSocketIoClient();
    if (this.closing) return;
    if (!this.managerLinkStarted) {
      this.managerLinkStarted = true;
      this.managerLink.start();
      // Let the dial go out before socket.io's server side loads (synchronous, tens of ms).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closing) return;
    }
    await Promise.all([this.#keys.ready, this.server.load()]);
    if (this.closing) return;
    await this.server.listen(this.options.meshPort ?? DEFAULTS.meshPort, this.options.bindHost);
    if (this.closing) return;
    for (const command of this.options.commands) if (command.queued) this.queueFor(command);
    this.logger.info(
      startLine(this.worker, this.variant, this.server.port, this.options.manager, this.options.commands, this.queues),
    );
    this.markServing();
  }

  /** Resolves once registered with the manager and the mesh server listens. */
  ready(): Promise<void> {
    return this.firstRegistration.promise;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Registered with at least one manager right now (peer links do not depend on it). */
  get managerConnected(): boolean {
    return this.managerLink.registered;
  }

  get commands(): CommandTable {
    return this.commandTable;
  }

  /** Connected instances this worker can call, optionally of one worker name. */
  peers(worker?: string): PeerDescriptor[] {
    return this.directory.peers(worker);
  }

  /** Resolves with the connected instances of `worker` once `instances` (default 1) are; MESH_TIMEOUT after `timeout`. */
  waitFor(worker: string, options?: WaitForOptions): Promise<PeerDescriptor[]> {
    return waitForPeers(this.directory, worker, options, {
      self: this.worker,
      connect: new Set(this.options.connect),
      timeout: this.options.timeout ?? DEFAULTS.timeout,
      closing: () => this.closing !== undefined,
    });
  }

  /**
   * Calls `command` on `worker`, dispatched by the kind the target declares: balanced → its
   * answer; broadcast+responds → every answer; queued → { queued: n }; plain → { delivered: n }.
   */
  call(worker: string, command: string, payload?: unknown, options?: CallOptions): Promise<unknown> {
    // Telemetry off (the usual case): no closure, no wrapper, straight to the router.
    if (!telemetry.otel) return this.router.call(worker, command, payload, options);
    return observeCall(worker, command, () => this.router.call(worker, command, payload, options));
  }

  /** Stops taking requests, lets running ones finish (up to drainTimeout), closes everything. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const started = Date.now();
    const serving = this.server.listening;
    if (serving) this.logger.info(`${this.worker}/${this.variant} draining: ${this.dispatcher.inFlight} request(s) running`);
    gaugeSources.delete(this.gauges);
    this.dispatcher.startDraining();
    if (this.server.listening) this.server.announceLeaving();
    this.managerLink.unregister();
    const drainTimeout = this.options.drainTimeout ?? DEFAULTS.drainTimeout;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.dispatcher.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (this.dispatcher.inFlight > 0)
            this.logger.warn(`${this.dispatcher.inFlight} requests still running after ${drainTimeout} ms; closing anyway`);
          resolve();
        }, drainTimeout);
      }),
    ]);
    clearTimeout(timer);
    this.firstRegistration.failed(new MeshError(MeshErrorCode.CLOSED, `${this.worker} closed before it registered`));
    this.linkReporter.close();
    this.directory.close();
    this.managerLink.close();
    // What is left of drainTimeout (at least a moment for the last answers to leave, at most
    // 2 s) bounds the graceful close; connections still open then are destroyed.
    await this.server.close(Math.min(2000, Math.max(200, drainTimeout - (Date.now() - started))));
    await Promise.all([...this.openQueues.values()].map((q) => q.close(drainTimeout)));
    await this.queues.close();
    if (serving) this.logger.info(`${this.worker}/${this.variant} drained and closed in ${formatDuration(Date.now() - started)}`);
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
      // The job's trace is for the CONSUMER span only: the handler gets just its payload, as before.
      const handler = observeQueued(this.worker, command.name, (payload: unknown) => command.handler(payload));
      queue = this.queues.open({ worker: this.worker, command: command.name, variant: this.variant }, handler, this.#keys);
      this.openQueues.set(command.name, queue);
    }
    return queue;
  }
}
