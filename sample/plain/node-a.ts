import { setTimeout as delay } from 'node:timers/promises';
import { MeshError, SocketNode } from '../../lib/index.js';
import { privateKey, publicKey } from '../keys.js';
import { schema } from './schema.js';

const stopped = new AbortController();
let polling = false;

const node = new SocketNode({
  worker: 'NodeA',
  schema,
  publicKey,
  privateKey,
  ip: '127.0.0.1',
  port: Number(process.env.MASTER_SOCKET_PORT),
  hostname: '127.0.0.1',
  // Start on the first NodeB link instead of guessing how long start-up takes.
  onConnection: ({ worker, variant }) => {
    console.log(`linked to ${worker} ${variant}`);
    if (worker === 'NodeB' && !polling) {
      polling = true;
      void poll();
    }
  },
});

async function poll(): Promise<void> {
  for (let seq = 1; !stopped.signal.aborted; seq++) {
    await attempt('balanced status', async () => {
      const { status, variant } = await node.call.NodeB.status.call<{ status: string; variant: string }>({ test: 'data' });
      return `${status} (answered by ${variant})`;
    });
    await attempt('broadcast collect', async () => {
      const answers = await node.call.NodeB.collect.call<{ command: string; variant: string }[]>({ test: 'data' });
      return answers.map((a) => `${a.variant}: ${a.command}`).join(', ');
    });
    await attempt('queued ingest', async () => {
      const { queued } = await node.call.NodeB.ingest.call<{ queued: number }>({ seq });
      return `#${seq} stored by ${queued} instance(s)`;
    });
    // Pace, not synchronisation: one round a second keeps the output readable.
    await delay(1000, undefined, { signal: stopped.signal }).catch(() => undefined);
  }
}

// A failed call is reported by its stable code (MESH_NO_PEER, MESH_TIMEOUT, ...); the loop goes on.
async function attempt(label: string, call: () => Promise<string>): Promise<void> {
  try {
    console.log(`${label} → ${await call()}`);
  } catch (err) {
    if (stopped.signal.aborted) return;
    console.warn(`${label} failed: ${err instanceof MeshError ? `${err.code} ${err.message}` : String(err)}`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopped.abort();
    void node.close();
  });
}
