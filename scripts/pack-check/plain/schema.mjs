// The README's "Without NestJS" schema, shared by the three processes of the split run.
export const schema = {
  NodeA: { _allow: [], _connect: ['NodeB'] },
  NodeB: {
    _allow: ['NodeA'],
    _connect: [],
    _commands: {
      _balanced: {
        status({ test }) {
          return { status: `ok ${test}` };
        },
      },
      _broadcast: {
        collect: {
          method({ test }) {
            return { command: test, node: this.variant };
          },
          responds: true,
        },
      },
    },
  },
};
export const keys = { publicKey: 'mesh-public', privateKey: 'pack-check-mesh-secret-0123456789abcdef' };
export const port = Number(process.env.MESH_PORT);
/** SIGTERM closes the node; the process then has to exit by itself (exit code 0). */
export function closeOnSigterm(closable) {
  process.once('SIGTERM', () => void closable.close());
}
