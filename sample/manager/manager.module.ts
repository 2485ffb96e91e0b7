import { Module } from '@nestjs/common';
import { SocketMeshModule } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';

/**
 * The manager only registers workers and tells each one which peers it may reach: it is never
 * in the call path, so NodeA ↔ NodeB traffic keeps flowing if it restarts.
 */
@Module({
  imports: [
    SocketMeshModule.forManager({
      // Unset: a free port is chosen and published at GET /socket-mesh/port.
      port: Number(process.env.MASTER_SOCKET_PORT) || undefined,
      publicKey,
      privateKey,
    }),
  ],
})
export class ManagerModule {}
