import { Module } from '@nestjs/common';
import { SocketMeshModule } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';
import { PollerService } from './poller.service.js';

@Module({
  imports: [
    SocketMeshModule.forWorker('NodeA', {
      manager: { host: '127.0.0.1', port: Number(process.env.MASTER_SOCKET_PORT) },
      // NodeA dials NodeB; the link exists because NodeB also allows NodeA.
      connect: ['NodeB'],
      advertiseHost: '127.0.0.1',
      publicKey,
      privateKey,
    }),
  ],
  providers: [PollerService],
})
export class NodeAModule {}
