/**
 * The plain API (Manager + SocketNode) on loopback with real sockets: a command method gets the
 * call context as its second argument (with `this` still the node), and `node.waitFor` waits
 * for a worker's instances or rejects with MESH_TIMEOUT.
 */
import { describe, expect, it } from '@jest/globals';
import { MeshErrorCode } from '../lib/core/errors.js';
import type { MeshCallContext } from '../lib/core/handler-context.js';
import { Manager } from '../lib/core/manager.js';
import type { MeshSchema } from '../lib/core/schema.js';
import { SocketNode } from '../lib/core/socket-node.js';
import { closeAfterEach } from './support/close-after-each.js';
import { freePort } from './support/free-port.js';
import { TEST_KEYS } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';
import { meshError as rejection } from './support/mesh-rejection.js';

const { publicKey, privateKey } = TEST_KEYS;

const track = closeAfterEach();

const seen: { self: unknown; context: MeshCallContext }[] = [];
const schema: MeshSchema = {
  NodeA: { _connect: ['NodeB'] },
  NodeB: {
    _allow: ['NodeA'],
    _commands: {
      _balanced: {
        whoami(this: unknown, _payload: unknown, context: MeshCallContext) {
          seen.push({ self: this, context });
          return context;
        },
      },
      _broadcast: {
        note: {
          queued: true,
          method(this: unknown, _payload: unknown, context: MeshCallContext) {
            seen.push({ self: this, context });
          },
        },
      },
    },
  },
};

function start(worker: 'NodeA' | 'NodeB', port: number): SocketNode {
  return track(new SocketNode({ logLevel: 'silent', port, ip: '127.0.0.1', worker, schema, publicKey, privateKey }));
}

describe('plain API: call context and waitFor', () => {
  it('a command method gets (payload, context) with `this` the node; queued ones an empty caller', async () => {
    const port = await freePort();
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'silent' }));
    const nodeB = start('NodeB', port);
    const nodeA = start('NodeA', port);
    await nodeA.waitFor('NodeB', { timeout: 10_000 });

    const answer = await nodeA.call.NodeB!.whoami!.call({}, { metadata: { traceId: 't-1' } });
    expect(answer).toEqual({
      worker: 'NodeB',
      command: 'whoami',
      kind: 'balanced',
      caller: { worker: 'NodeA', variant: nodeA.variant },
      metadata: { traceId: 't-1' },
    });
    expect(seen[0]!.self).toBe(nodeB);

    await expect(nodeA.call.NodeB!.note!.call({})).resolves.toEqual({ queued: 1 });
    await waitFor(() => seen.length === 2, 5000, 'the queued command to run');
    expect(seen[1]!.self).toBe(nodeB);
    expect(seen[1]!.context).toEqual({
      worker: 'NodeB',
      command: 'note',
      kind: 'broadcast',
      caller: { worker: '', variant: '' },
      metadata: {},
    });
  });

  it('waitFor resolves once the worker is connected, rejects with MESH_TIMEOUT when it is not', async () => {
    const port = await freePort();
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'silent' }));
    const nodeA = start('NodeA', port);
    const timedOut = await rejection(nodeA.waitFor('NodeB', { timeout: 200 }));
    expect(timedOut.code).toBe(MeshErrorCode.TIMEOUT);
    expect(timedOut.message).toMatch(/0 of 1 instance of 'NodeB' connected after 200 ms/);

    const waiting = nodeA.waitFor('NodeB', { timeout: 10_000 });
    const nodeB = start('NodeB', port);
    const peers = await waiting;
    expect(peers).toEqual([{ worker: 'NodeB', variant: nodeB.variant, host: '127.0.0.1', port: nodeB.meshServer.port }]);
    expect((await rejection(nodeA.waitFor('NodeB', { instances: 1.5 }))).code).toBe(MeshErrorCode.BAD_REQUEST);
  });
});
