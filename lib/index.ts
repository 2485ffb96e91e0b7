// Public API of socket-mesh. Public exports only; everything else is internal.

// NestJS module
export { SocketMeshModule } from './nest/socket-mesh.module.js';
export { MeshClient } from './nest/mesh-client.js';
export { MeshRegistry } from './nest/mesh-registry.js';
export type { MeshRegistryChange } from './nest/mesh-registry.js';
export type { MeshNodeProxy, UntypedMeshNode } from './nest/mesh-client.js';
export { Balanced } from './nest/decorators/balanced.decorator.js';
export type { BalancedOptions } from './nest/decorators/balanced.decorator.js';
export { Broadcast } from './nest/decorators/broadcast.decorator.js';
export type { BroadcastOptions } from './nest/decorators/broadcast.decorator.js';
export { OnMeshEvent } from './nest/decorators/on-mesh-event.decorator.js';
export type { MeshEventName } from './nest/socket-mesh.constants.js';
export type { MeshHandlerContext, MeshRequest } from './nest/mesh-handler-context.js';
export { MeshPayload, MeshContext } from './nest/decorators/mesh-params.decorator.js';
export { MeshExceptionFilter, meshErrorToHttp } from './nest/mesh-exception.filter.js';
export { defineWorker, command } from './nest/worker-contract.js';
export type {
  ContractAnswer,
  ContractCommand,
  ContractKind,
  MeshContractProxy,
  MeshImplementation,
  WorkerContract,
} from './nest/worker-contract.js';
export type {
  SocketMeshManagerAddress,
  SocketMeshNamedWorkerOptions,
  SocketMeshQueueOptions,
  SocketMeshWorkerAsyncOptions,
  SocketMeshWorkerOptions,
  SocketMeshWorkerOptionsFactory,
} from './nest/interfaces/worker-options.interface.js';
export type {
  SocketMeshManagerAsyncOptions,
  SocketMeshManagerOptions,
  SocketMeshManagerOptionsFactory,
} from './nest/interfaces/manager-options.interface.js';

// Plain Node.js API and what both fronts share (MeshError, call options, logger types)
export * from './plain.js';
