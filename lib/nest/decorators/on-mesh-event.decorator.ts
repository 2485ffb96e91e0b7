import { ON_MESH_EVENT_METADATA, type MeshEventName } from '../socket-mesh.constants.js';

/**
 * Calls the decorated provider method on a mesh event, with `{ worker, variant }` (plus
 * `direction: 'outgoing' | 'incoming'` for peer events):
 * - `'connected'`: this instance registered with the manager (again after a reconnect);
 * - `'peer.connected'` / `'peer.disconnected'`: a link to a peer this worker calls
 *   (`outgoing`) or from a peer that calls it (`incoming`) came up or went down.
 *
 * Stack it to listen to several events. Errors the method throws or rejects with are logged.
 */
export function OnMeshEvent(event: MeshEventName): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const events = (Reflect.getOwnMetadata(ON_MESH_EVENT_METADATA, method) as unknown[] | undefined) ?? [];
    Reflect.defineMetadata(ON_MESH_EVENT_METADATA, [...events, event], method);
    return descriptor;
  };
}
