// The plain Node.js API alone, for programs that do not use NestJS: importing
// 'socket-mesh/plain' loads no @nestjs package. 'socket-mesh' exports the same names too.

export { Manager } from './core/manager.js';
export type { ManagerEvents, ManagerOptions } from './core/manager.js';
export { SocketNode } from './core/socket-node.js';
export type { SocketNodeOptions, SocketNodeConnection, SocketNodeInfo } from './core/socket-node.js';
export type { MeshSchema, WorkerSchema, SchemaCommand, SchemaCommandObject } from './core/schema.js';
export type { RegistryEntry } from './core/manager/registry.js';
export { MeshError, MeshErrorCode } from './core/errors.js';
export type { MeshOutcome } from './core/errors.js';
export type { CallOptions, MeshEventPayload, PeerDescriptor } from './core/mesh-node.js';
export type { LogLevel, MeshLogger } from './core/logger.js';
export type { CallContext, CallMetadata } from './core/call-metadata.js';
export type { MeshCallContext } from './core/handler-context.js';
export type { WaitForOptions } from './core/node/wait-for-peers.js';
export type { MeshTlsOptions, Pem } from './core/tls/tls-options.js';
