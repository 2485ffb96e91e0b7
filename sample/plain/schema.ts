/**
 * The whole mesh in one object, shared by every process (the plain API's shape): who may
 * connect to whom, and each worker's commands. A process runs only its own worker's handlers.
 */
import type { MeshSchema } from '../../lib/index.js';

// Each NodeB process sets INSTANCE_ID; its answers carry it so callers can see who answered.
const variant = () => process.env.INSTANCE_ID;

export const schema: MeshSchema = {
  NodeA: {
    _connect: ['NodeB'],
  },
  NodeB: {
    _allow: ['NodeA'],
    _commands: {
      _balanced: {
        // One NodeB instance answers each call, in turn.
        status: ({ test }: { test: string }) => ({ status: `ok ${test}`, variant: variant() }),
      },
      _broadcast: {
        // Every instance answers; the caller gets an array.
        collect: { method: ({ test }: { test: string }) => ({ command: test, variant: variant() }), responds: true },
        // Every instance queues it and handles its queue one request at a time, in order.
        ingest: { method: ({ seq }: { seq: number }) => console.log(`ingested #${seq}`), queued: true },
      },
    },
  },
};
