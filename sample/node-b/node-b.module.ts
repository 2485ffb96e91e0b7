import { Module } from '@nestjs/common';
import { SocketMeshModule } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';
import { StatusService, VARIANT } from './status.service.js';

// Stable across restarts when set, so callers' `only`/`exclude` targeting keeps working.
const instanceId = process.env.INSTANCE_ID || `node-b-${process.pid}`;

@Module({
  imports: [
    SocketMeshModule.forWorker('NodeB', {
      manager: { host: '127.0.0.1', port: Number(process.env.MASTER_SOCKET_PORT) },
      // Rights are checked by the receiver: only NodeA may call in.
      allow: ['NodeA'],
      instanceId,
      // The address peers dial; in a cluster this would be the pod IP.
      advertiseHost: '127.0.0.1',
      publicKey,
      privateKey,
    }),
  ],
  providers: [StatusService, { provide: VARIANT, useValue: instanceId }],
})
export class NodeBModule {}
