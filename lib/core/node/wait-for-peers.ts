import { MeshError, MeshErrorCode } from '../errors.js';
import { didYouMean } from '../names.js';
import type { PeerDescriptor } from './types.js';

/** Options of `waitFor(worker, options)`. */
export interface WaitForOptions {
  /** How long to wait (ms); default the worker's call timeout. */
  timeout?: number;
  /** How many connected instances to wait for (default 1). */
  instances?: number;
}

/** What waiting needs of the node: its peers and a signal when they may have changed. */
export interface WaitablePeers {
  peers(worker: string): PeerDescriptor[];
  nextChange(ms: number): Promise<void>;
}

export interface WaitForContext {
  /** This worker's name, for messages. */
  self: string;
  /** Worker names this node may call: nobody else will ever be connected. */
  connect: ReadonlySet<string>;
  /** The default timeout (ms). */
  timeout: number;
  closing(): boolean;
}

/**
 * Resolves with the connected instances of `worker` once there are `instances` of them (ready
 * to take calls, not merely listed by the manager); rejects with MESH_TIMEOUT when the deadline
 * passes first. For start-up: "do not serve before NodeB is there".
 */
export async function waitForPeers(
  peers: WaitablePeers,
  worker: string,
  options: WaitForOptions | undefined,
  context: WaitForContext,
): Promise<PeerDescriptor[]> {
  const { timeout, instances } = readWaitForOptions(worker, options, context.timeout);
  if (!context.connect.has(worker)) {
    throw new MeshError(
      MeshErrorCode.ACCESS_DENIED,
      `'${context.self}' may not call '${worker}': it is not in this worker's connect list${didYouMean(worker, context.connect)}`,
      { worker },
    );
  }
  const deadline = Date.now() + timeout;
  for (;;) {
    if (context.closing()) throw new MeshError(MeshErrorCode.CLOSED, `${context.self} is shutting down`, { worker });
    const found = peers.peers(worker);
    if (found.length >= instances) return found;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new MeshError(
        MeshErrorCode.TIMEOUT,
        `${found.length} of ${instances} instance${instances === 1 ? '' : 's'} of '${worker}' connected after ${timeout} ms`,
        { worker },
      );
    }
    await peers.nextChange(left);
  }
}

function readWaitForOptions(worker: unknown, options: unknown, defaultTimeout: number): { timeout: number; instances: number } {
  const bad = (message: string) =>
    new MeshError(MeshErrorCode.BAD_REQUEST, `waitFor(worker, { timeout?, instances? }): ${message}`);
  if (typeof worker !== 'string' || worker.length === 0) throw bad('the worker must be a non-empty string');
  if (options === undefined) return { timeout: defaultTimeout, instances: 1 };
  if (typeof options !== 'object' || options === null) throw bad('options must be an object');
  const { timeout = defaultTimeout, instances = 1, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(`unknown option '${unknown[0]}'`);
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)
    throw bad('timeout must be a positive number of ms');
  if (typeof instances !== 'number' || !Number.isInteger(instances) || instances < 1)
    throw bad('instances must be a positive integer');
  return { timeout, instances };
}
