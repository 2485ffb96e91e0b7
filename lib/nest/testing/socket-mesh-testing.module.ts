import { Module, type DynamicModule } from '@nestjs/common';
import { MeshClient } from '../mesh-client.js';
import { SOCKET_MESH_WORKER_NAME } from '../socket-mesh.constants.js';
import { TestingMeshClient, type SocketMeshTestingOptions } from './testing-mesh-client.js';

/**
 * Stands in for `SocketMeshModule.forWorker(name, …)` in unit tests: provides (globally) a
 * `MeshClient` whose calls run the given fakes in this process. No mesh port, no manager, no
 * socket; `@Balanced`/`@Broadcast` methods of the app are not served.
 */
@Module({})
export class SocketMeshTestingModule {
  static forWorker(name: string, options: SocketMeshTestingOptions = {}): DynamicModule {
    const client = new TestingMeshClient(name, options);
    return {
      module: SocketMeshTestingModule,
      global: true,
      providers: [
        { provide: SOCKET_MESH_WORKER_NAME, useValue: name },
        { provide: MeshClient, useValue: client },
        { provide: TestingMeshClient, useValue: client },
      ],
      exports: [MeshClient, TestingMeshClient, SOCKET_MESH_WORKER_NAME],
    };
  }
}
