// 'socket-mesh/testing': a MeshClient backed by in-process fakes, for unit tests of Nest apps.

export { SocketMeshTestingModule } from './nest/testing/socket-mesh-testing.module.js';
export { TestingMeshClient } from './nest/testing/testing-mesh-client.js';
export type { MeshFake, MeshFakeHandler, MeshFakes, SocketMeshTestingOptions } from './nest/testing/testing-mesh-client.js';
