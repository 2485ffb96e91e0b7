import { SocketNode } from 'socket-mesh/plain';
import { keys, port, schema } from './schema.mjs';

const deadline = setTimeout(() => {
  console.error('NodeA: no NodeB link within 15 s');
  process.exit(1);
}, 15_000);
const nodeA = new SocketNode({
  worker: 'NodeA',
  schema,
  ...keys,
  ip: '127.0.0.1',
  port,
  logLevel: 'warn',
  async onConnection({ worker }) {
    if (worker !== 'NodeB') return;
    clearTimeout(deadline);
    const status = await nodeA.call.NodeB.status.call({ test: 'data' });
    const collect = await nodeA.call.NodeB.collect.call({ test: 'data' });
    console.log(`SPLIT_RESULT ${JSON.stringify({ status, collect })}`);
    await nodeA.close();
  },
});
