import { SocketNode } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';
import { schema } from './schema.js';

// The handlers live in schema.ts; this process only says which worker it is and where the manager is.
const node = new SocketNode({
  worker: 'NodeB',
  schema,
  publicKey,
  privateKey,
  ip: '127.0.0.1',
  port: Number(process.env.MASTER_SOCKET_PORT),
  // The address peers dial, and a stable variant id for this instance.
  hostname: '127.0.0.1',
  variant: process.env.INSTANCE_ID,
  onConnected: () => console.log('registered with the manager'),
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void node.close());
}
