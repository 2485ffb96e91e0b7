import { Manager } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';
import { schema } from './schema.js';

const manager = new Manager({
  // Given the whole schema, the manager refuses workers that do not match it.
  schema,
  publicKey,
  privateKey,
  // 0: a free port, reported below (undefined would also serve it on discovery port 8765).
  port: Number(process.env.MASTER_SOCKET_PORT) || 0,
});
await manager.ready();
console.log(`SAMPLE_READY ${JSON.stringify({ role: 'manager', port: manager.port })}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // close() releases every socket and timer, so the process then ends by itself.
  process.once(signal, () => void manager.close());
}
