import type { MeshLogger } from '../logger.js';
import { encode } from '../protocol.js';
import type { ManagerStats } from './manager-stats.js';
import type { RegisteredInstance, Registry } from './registry.js';

/** What a push needs of a worker's session with the manager. */
export interface TopologySession {
  instance?: RegisteredInstance;
  lastTopology?: string;
  channel: { send(json: string): void };
}

/**
 * Sends each worker its topology when it changed since the last one it got. With `changed`
 * (the instance that joined or left), only the workers that may see it are looked at: the
 * instance itself and those whose `connect` names its worker. A join therefore costs one
 * message per worker that may reach it, not one per registered worker, and no O(n²) rebuild.
 */
export function pushTopology(
  sessions: Iterable<TopologySession>,
  registry: Registry,
  changed: RegisteredInstance | undefined,
  stats: ManagerStats,
  logger: MeshLogger,
): void {
  // Instances with the same rights see the same topology (unless they connect to their own
  // worker, where each leaves itself out): a NodeB joining is built and encoded once for all
  // of a thousand NodeAs, not once each.
  const built = new Map<string, string>();
  for (const session of sessions) {
    const instance = session.instance;
    if (!instance) continue;
    if (changed && instance !== changed && !instance.connect.includes(changed.worker)) continue;
    stats.topologyChecks++;
    const key = instance.connect.includes(instance.worker)
      ? undefined
      : JSON.stringify([instance.worker, instance.allow, instance.connect]);
    let json = key === undefined ? undefined : built.get(key);
    if (json === undefined) {
      json = encode.topology(registry.topologyFor(instance));
      if (key !== undefined) built.set(key, json);
    }
    if (json === session.lastTopology) continue;
    session.lastTopology = json;
    stats.topologyMessages++;
    try {
      session.channel.send(json);
    } catch (err) {
      logger.warn(`topology for ${instance.worker} not sent: ${(err as Error).message}`);
    }
  }
}
