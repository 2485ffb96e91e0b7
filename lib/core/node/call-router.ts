import type { CommandSpec } from '../command-spec.js';
import { observeInstance } from '../telemetry/client-telemetry.js';
import { MeshError, MeshErrorCode, type MeshOutcome } from '../errors.js';
import type { MeshLogger } from '../logger.js';
import { didYouMean } from '../names.js';
import { aggregateBroadcast, asMeshError, encodePayload } from './call-results.js';
import { normalizeCallOptions, type NormalizedCallOptions, type VariantFilter } from './call-options.js';
import type { InstanceHealth } from '../pending-calls.js';
import type { GroupMember, PeerGroup } from './peer-group.js';
import type { CallOptions } from './types.js';

/** What the router needs of a link (a PeerLink in the mesh). */
export interface RoutedLink extends GroupMember {
  /** `health` hears how the call ended, before its promise settles (see pending-calls.ts). */
  request(
    command: string,
    payloadJson: string | undefined,
    timeoutMs: number,
    metadataJson?: string,
    health?: InstanceHealth,
  ): Promise<unknown>;
}

/** One balanced call as routed: what each of its attempts needs. */
interface BalancedCall<L extends RoutedLink> {
  group: PeerGroup<L>;
  command: string;
  payloadJson: string | undefined;
  metadataJson: string | undefined;
  filter: VariantFilter;
  /** ms the first attempt may wait for its answer */
  timeout: number;
  retries: number;
  /** Date.now() ms after which no attempt starts */
  deadline: number;
}

/** What the router needs of the peer directory. */
export interface RouterDirectory<L extends RoutedLink> {
  readonly topologyReceived: boolean;
  group(worker: string): PeerGroup<L> | undefined;
  isDenied(worker: string): boolean;
  nextChange(ms: number): Promise<void>;
}

export interface CallRouterOptions {
  /** This worker's name, for messages. */
  worker: string;
  /** Worker names this node may call. */
  connect: ReadonlySet<string>;
  /** The worker-wide default timeout (ms). */
  timeout: number;
  logger: MeshLogger;
  /** True once the node is shutting down: calls fail with MESH_CLOSED. */
  closing(): boolean;
}

/**
 * Routes a call to the instances of its target worker, by the kind the target declares:
 * balanced → one instance in rotation (with retries on another one); broadcast → every ready
 * instance, outcomes aggregated. Waits, up to the call's timeout, while the target is being
 * dialed or the topology has not arrived yet.
 */
export class CallRouter<L extends RoutedLink = RoutedLink> {
  constructor(
    private readonly directory: RouterDirectory<L>,
    private readonly options: CallRouterOptions,
  ) {}

  /**
   * Balanced → its answer; broadcast+responds → every answer; queued → { queued: n };
   * plain broadcast → { delivered: n }.
   */
  call(worker: string, command: string, payload?: unknown, callOptions?: CallOptions): Promise<unknown> {
    // Not async: a balanced call hands back the link's own promise, with no promise of its own
    // wrapped around it (each wrapper costs allocations and microtask turns per call).
    try {
      return this.route(worker, command, payload, callOptions);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private route(worker: string, command: string, payload: unknown, callOptions: CallOptions | undefined): Promise<unknown> {
    const self = this.options.worker;
    if (this.options.closing()) throw new MeshError(MeshErrorCode.CLOSED, `${self} is shutting down`, { worker, command });
    if (typeof worker !== 'string' || typeof command !== 'string') {
      throw new MeshError(MeshErrorCode.BAD_REQUEST, 'call(worker, command, ...) takes two strings', { worker, command });
    }
    if (!this.options.connect.has(worker)) {
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `'${self}' may not call '${worker}': it is not in this worker's connect list${didYouMean(worker, this.options.connect)}`,
        { worker, command },
      );
    }
    const payloadJson = encodePayload(payload, worker, command);
    const options = normalizeCallOptions(callOptions, worker, command);
    const filter = options.filter;
    // Usually an instance is up: take it without the wait loop's await and allocations (and
    // without reading the clock: no time has passed waiting).
    const known = this.directory.group(worker);
    if (known && known.ready(filter).length > 0) return this.callGroup(known, worker, command, payloadJson, options, undefined);
    const started = Date.now();
    const provisional = options.timeout ?? this.options.timeout;
    return this.awaitGroup(worker, command, filter, started + provisional).then((group) =>
      this.callGroup(group, worker, command, payloadJson, options, started),
    );
  }

  /** `started`: Date.now() when the call began waiting for its group; undefined when it did not wait. */
  private callGroup(
    group: PeerGroup<L>,
    worker: string,
    command: string,
    payloadJson: string | undefined,
    options: NormalizedCallOptions,
    started: number | undefined,
  ): Promise<unknown> {
    const filter = options.filter;
    const spec = group.spec(command);
    if (!spec) {
      throw new MeshError(MeshErrorCode.UNKNOWN_COMMAND, `'${worker}' has no command '${command}'`, { worker, command });
    }
    const timeout = options.timeout ?? spec.timeout ?? this.options.timeout;
    const remaining = started === undefined ? timeout : Math.max(1, timeout - (Date.now() - started));
    if (spec.kind !== 'balanced') {
      return this.callBroadcast(group, command, payloadJson, options.metadataJson, filter, remaining, spec, options.settle);
    }
    const retries = options.retries ?? spec.retries ?? 0;
    if (retries === 0) return this.callOnce(group, command, payloadJson, options.metadataJson, filter, remaining);
    return this.callWithRetries({
      group,
      command,
      payloadJson,
      metadataJson: options.metadataJson,
      filter,
      timeout: remaining,
      retries,
      deadline: (started ?? Date.now()) + timeout,
    });
  }

  /** The group of `worker` once it has a ready instance; waits while one is being dialed. */
  private async awaitGroup(worker: string, command: string, filter: VariantFilter, deadline: number): Promise<PeerGroup<L>> {
    const directory = this.directory;
    for (;;) {
      if (this.options.closing()) {
        throw new MeshError(MeshErrorCode.CLOSED, `${this.options.worker} is shutting down`, { worker, command });
      }
      const group = directory.group(worker);
      if (group && group.ready(filter).length > 0) return group;
      const waiting = !directory.topologyReceived || (group?.hasConnecting(filter) ?? false);
      if (!waiting) {
        if (directory.isDenied(worker)) {
          throw new MeshError(MeshErrorCode.ACCESS_DENIED, `'${worker}' does not allow '${this.options.worker}' to connect`, {
            worker,
            command,
          });
        }
        throw new MeshError(
          MeshErrorCode.NO_PEER,
          `no instance of '${worker}' is connected${filter ? ' (after only/exclude)' : ''}`,
          {
            worker,
            command,
          },
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new MeshError(
          MeshErrorCode.NO_PEER,
          directory.topologyReceived
            ? `no instance of '${worker}' became reachable in time`
            : 'not registered with the manager yet',
          { worker, command },
        );
      }
      await directory.nextChange(left);
    }
  }

  /** A balanced call without retries: the link's own promise, nothing wrapped around it. */
  private callOnce(
    group: PeerGroup<L>,
    command: string,
    payloadJson: string | undefined,
    metadataJson: string | undefined,
    filter: VariantFilter,
    timeout: number,
  ): Promise<unknown> {
    const link = group.next(filter, usableIn(group));
    if (!link) throw noInstance(group, command);
    return link.request(command, payloadJson, timeout, metadataJson, group.health);
  }

  private async callWithRetries(call: BalancedCall<L>): Promise<unknown> {
    const { command, payloadJson, metadataJson, filter, retries, deadline } = call;
    let group = call.group;
    const tried = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const avoid: VariantFilter = tried.size === 0 ? filter : (v) => !tried.has(v) && (!filter || filter(v));
      const usable = usableIn(group);
      const link = group.next(avoid, usable) ?? (tried.size > 0 ? group.next(filter, usable) : undefined);
      if (!link) throw noInstance(group, command);
      const timeout = attempt === 0 ? call.timeout : Math.max(1, deadline - Date.now());
      try {
        return await link.request(command, payloadJson, timeout, metadataJson, group.health);
      } catch (err) {
        const code = (err as MeshError).code;
        const retryable = code === MeshErrorCode.PEER_DISCONNECTED || code === MeshErrorCode.NO_PEER;
        if (!retryable || attempt >= retries || Date.now() >= deadline) throw err;
        tried.add(link.variant);
        this.options.logger.debug(`retrying '${command}' after ${code} from ${link.variant}`);
        if (group.ready(filter).length === 0) {
          // The group may have been replaced meanwhile (its last link dropped, a new one added):
          // go on with the one that has a ready instance, not the stale one.
          group = await this.awaitGroup(group.worker, command, filter, deadline);
        }
      }
    }
  }

  private async callBroadcast(
    group: PeerGroup<L>,
    command: string,
    payloadJson: string | undefined,
    metadataJson: string | undefined,
    filter: VariantFilter,
    timeout: number,
    spec: CommandSpec,
    settle: boolean,
  ): Promise<unknown> {
    const links = group.ready(filter);
    const settled = await Promise.allSettled(
      links.map((link) =>
        observeInstance(group.worker, command, link.variant, () => link.request(command, payloadJson, timeout, metadataJson)),
      ),
    );
    const outcomes: MeshOutcome[] = settled.map((r, i) =>
      r.status === 'fulfilled'
        ? { worker: group.worker, variant: links[i]!.variant, status: 'fulfilled', value: r.value }
        : {
            worker: group.worker,
            variant: links[i]!.variant,
            status: 'rejected',
            error: asMeshError(r.reason, group.worker, command),
          },
    );
    return aggregateBroadcast(outcomes, spec, settle, group.worker, command);
  }
}

/**
 * Passed over while another instance is usable: a link at its maxPending limit, and an instance
 * whose breaker is open (failure-detector.ts; the check takes the half-open probe slot).
 */
const usableIn =
  <L extends RoutedLink>(group: PeerGroup<L>) =>
  (link: L): boolean =>
    link.hasRoom && group.health.admit(link.variant);

function noInstance(group: PeerGroup<RoutedLink>, command: string): MeshError {
  return new MeshError(MeshErrorCode.NO_PEER, `no instance of '${group.worker}' is connected`, { worker: group.worker, command });
}
