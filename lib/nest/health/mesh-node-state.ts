import type { MeshNode } from '../../core/mesh-node.js';

/**
 * Whether `node` is registered with the manager right now. MeshNode keeps its manager link
 * private; until it exposes `managerConnected`, its link's `registered` flag is read. A shape
 * that matches neither throws, so a health check never silently reports a guess.
 */
export function managerLinkUp(node: MeshNode): boolean {
  const exposed = (node as unknown as { managerConnected?: unknown }).managerConnected;
  if (typeof exposed === 'boolean') return exposed;
  const registered = (node as unknown as { managerLink?: { registered?: unknown } }).managerLink?.registered;
  if (typeof registered === 'boolean') return registered;
  throw new Error('socket-mesh: cannot read the manager link state of this MeshNode');
}
