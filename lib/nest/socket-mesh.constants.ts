/** Metadata key of `@Balanced()`: the decorator's options, set on the method. */
export const BALANCED_METADATA = 'socket-mesh:balanced';
/** Metadata key of `@Broadcast()`: the decorator's options, set on the method. */
export const BROADCAST_METADATA = 'socket-mesh:broadcast';
/** Metadata key of `@OnMeshEvent()`: the list of events the method listens to. */
export const ON_MESH_EVENT_METADATA = 'socket-mesh:on-mesh-event';
/**
 * Parameter metadata the explorer gives every mesh handler (argument 0 is the payload), so
 * pipes bound globally, to the class or to the method transform the payload.
 */
export const MESH_ARGS_METADATA = 'socket-mesh:args';

/** The execution context type guards, interceptors and filters see: `context.getType() === 'mesh'`. */
export const MESH_CONTEXT_TYPE = 'mesh';

/** The context of the Nest `Logger` the module writes to. */
export const SOCKET_MESH_LOGGER_CONTEXT = 'SocketMesh';

/** Injection token: the worker name given to `forWorker(name, …)`. */
export const SOCKET_MESH_WORKER_NAME = Symbol('SOCKET_MESH_WORKER_NAME');
/** Injection token: the worker options as the user gave them (sync or from the async factory). */
export const SOCKET_MESH_RAW_WORKER_OPTIONS = Symbol('SOCKET_MESH_RAW_WORKER_OPTIONS');
/** Injection token: the validated worker options, defaults applied. */
export const SOCKET_MESH_WORKER_OPTIONS = Symbol('SOCKET_MESH_WORKER_OPTIONS');
/** Injection token: the manager options as the user gave them. */
export const SOCKET_MESH_RAW_MANAGER_OPTIONS = Symbol('SOCKET_MESH_RAW_MANAGER_OPTIONS');
/** Injection token: the validated manager options. */
export const SOCKET_MESH_MANAGER_OPTIONS = Symbol('SOCKET_MESH_MANAGER_OPTIONS');

/** The events `@OnMeshEvent()` accepts. */
export const MESH_EVENTS = ['connected', 'peer.connected', 'peer.disconnected'] as const;
export type MeshEventName = (typeof MESH_EVENTS)[number];
