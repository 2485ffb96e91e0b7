/**
 * The plain Node.js API (Manager + SocketNode) in this process, on loopback with real sockets:
 * the seed README's example nearly verbatim, then what the seed's users rely on around it.
 */
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { MeshError } from '../lib/core/errors.js';
import { Manager } from '../lib/core/manager.js';
import type { MeshSchema } from '../lib/core/schema.js';
import { SocketNode, type SocketNodeConnection, type SocketNodeInfo } from '../lib/core/socket-node.js';
import { closeAfterEach } from './support/close-after-each.js';
import { freePort } from './support/free-port.js';
import { TEST_KEYS } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';
import { meshError as rejection } from './support/mesh-rejection.js';

const { publicKey, privateKey } = TEST_KEYS;

const track = closeAfterEach();

/**
 * ready() means registered, not linked: the caller learns of a peer from the manager's next
 * topology, so a call right after both ready() may still find nobody (MESH_NO_PEER).
 */
function linked(node: SocketNode, worker: string, count = 1): Promise<unknown> {
  return waitFor(() => node.peers(worker).length >= count, 5000, `${node.worker} to link to ${worker}`);
}

/** Handles of the kinds the mesh opens: servers, sockets, timers. */
function meshResources(): { servers: number; sockets: number; timers: number } {
  const types = process.getActiveResourcesInfo();
  const count = (type: string) => types.filter((t) => t === type).length;
  return { servers: count('TCPServerWrap'), sockets: count('TCPSocketWrap'), timers: count('Timeout') };
}

describe('plain API: the seed example', () => {
  it('NodeA calls NodeB.status through a manager and gets the value itself', async () => {
    const port = await freePort();
    const connected: SocketNodeInfo[] = [];
    const connections: SocketNodeConnection[] = [];

    // --- the seed README's example, with the test's keys and a free port ---
    const schema: MeshSchema = {
      NodeA: {
        _connect: ['NodeB'],
      },
      NodeB: {
        _allow: ['NodeA'],
        _commands: {
          _balanced: {
            status({ test }) {
              return { status: 'ok ' + test };
            },
          },
        },
      },
    };

    const manager = track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' }));

    const nodeB = track(
      new SocketNode({ logLevel: 'warn', port, ip: '127.0.0.1', worker: 'NodeB', schema, publicKey, privateKey }),
    );

    const nodeA = track(
      new SocketNode({
        logLevel: 'warn',
        port,
        ip: '127.0.0.1',
        worker: 'NodeA',
        schema,
        publicKey,
        privateKey,
        onConnected(info) {
          connected.push(info);
        },
        onConnection(connection) {
          connections.push(connection);
        },
      }),
    );
    // --- end of the example ---

    await Promise.all([manager.ready(), nodeB.ready(), nodeA.ready()]);
    expect(nodeA.meshServer.listening).toBe(true);
    expect(nodeA.meshServer.port).toBeGreaterThan(0);
    expect(connected).toEqual([{ worker: 'NodeA', variant: nodeA.variant }]);

    await waitFor(() => connections.length > 0, 5000, "NodeA's onConnection");
    expect(connections[0]).toEqual({ worker: 'NodeB', variant: nodeB.variant, direction: 'outgoing' });

    const result = await nodeA.call.NodeB.status.call({ test: 'data' });
    expect(result).toEqual({ status: 'ok data' });
    expect(nodeA.peers('NodeB')).toEqual([
      { worker: 'NodeB', variant: nodeB.variant, host: expect.any(String), port: nodeB.meshServer.port },
    ]);

    // Bad call options and payloads are refused at once with MESH_BAD_REQUEST; the node goes on.
    const bad = [
      nodeA.call.NodeB.status.call({ test: 'x' }, { retries: -1 }),
      nodeA.call.NodeB.status.call({ test: 'x' }, { timeout: 0 }),
      nodeA.call.NodeB.status.call({ big: 1n }),
    ];
    for (const attempt of bad) await expect(attempt).rejects.toMatchObject({ code: 'MESH_BAD_REQUEST' });
    expect(await nodeA.call.NodeB.status.call({ test: 'again' })).toEqual({ status: 'ok again' });
  });
});

describe('plain API: construction', () => {
  const valid = (): MeshSchema => ({ NodeA: { _connect: ['NodeB'] }, NodeB: { _allow: ['NodeA'] } });

  it('refuses a wrong schema at construction, naming the field', () => {
    const misspelt = { NodeA: { _conect: ['NodeB'] }, NodeB: { _allow: ['NodeA'] } } as unknown as MeshSchema;
    expect(() => new SocketNode({ worker: 'NodeA', schema: misspelt, publicKey, privateKey, port: 1 })).toThrow(
      /worker 'NodeA': unknown key '_conect' \(did you mean '_connect'\?\)/,
    );

    const badCommand = { NodeA: { _commands: { _balanced: { status: 42 } } } } as unknown as MeshSchema;
    expect(() => new SocketNode({ worker: 'NodeA', schema: badCommand, publicKey, privateKey, port: 1 })).toThrow(
      /worker 'NodeA': command 'status'/,
    );

    const nearMiss: MeshSchema = { NodeA: { _connect: ['nodeB'] }, NodeB: { _allow: ['NodeA'] } };
    expect(() => new SocketNode({ worker: 'NodeA', schema: nearMiss, publicKey, privateKey, port: 1 })).toThrow(
      /'_connect' names 'nodeB'.*did you mean 'NodeB'/,
    );
  });

  it('refuses a worker name the schema does not define, with the likely intended one', () => {
    let thrown: unknown;
    try {
      new SocketNode({ worker: 'nodeA', schema: valid(), publicKey, privateKey, port: 1 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MeshError);
    expect((thrown as MeshError).code).toBe('MESH_SCHEMA_INVALID');
    expect((thrown as MeshError).message).toMatch(/"nodeA" is not defined in the schema \(did you mean 'NodeA'\?\)/);
  });

  it('refuses bad addresses at construction, and takes ports from the environment as strings', () => {
    expect(() => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey, privateKey, port: Number(undefined) })).toThrow(
      /new SocketNode\('NodeA'\): option 'port' must be an integer from 1 to 65535, got NaN/,
    );
    expect(() => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey, privateKey, port: 1, meshPort: 70000 })).toThrow(
      /'meshPort'/,
    );
    expect(() => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey, privateKey, port: 1, variant: '' })).toThrow(
      /'variant'/,
    );
    expect(() => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey, privateKey, port: 1, hostname: '' })).toThrow(
      /'hostname'/,
    );
  });

  it('refuses missing keys and a bad logLevel at construction', () => {
    expect(() => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey: '', privateKey, port: 1 })).toThrow(/publicKey/);
    expect(
      () => new SocketNode({ worker: 'NodeA', schema: valid(), publicKey, privateKey, port: 1, logLevel: 'loud' as never }),
    ).toThrow(/logLevel/);
  });
});

describe('plain API: behaviour', () => {
  it('runs handlers with `this` = the node, and keeps the call tree inert', async () => {
    const port = await freePort();
    let self: unknown;
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: {
        _allow: ['NodeA'],
        _commands: {
          _balanced: {
            whoami() {
              // eslint-disable-next-line @typescript-eslint/no-this-alias -- the test checks what `this` was
              self = this;
              const node = this as SocketNode;
              return { worker: node.worker, variant: node.variant };
            },
          },
          _broadcast: {
            collect: {
              method(this: unknown) {
                return { variant: (this as SocketNode).variant };
              },
              responds: true,
            },
          },
        },
      },
    };
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' }));
    // Ports as they come from the environment: strings.
    const nodeB = track(new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, port: String(port), logLevel: 'warn' }));
    const nodeA = track(
      new SocketNode({ worker: 'NodeA', schema, publicKey, privateKey, port: `${port}`, meshPort: '0', logLevel: 'warn' }),
    );
    await Promise.all([nodeA.ready(), nodeB.ready()]);
    await linked(nodeA, 'NodeB');

    await expect(nodeA.call.NodeB.whoami.call()).resolves.toEqual({ worker: 'NodeB', variant: nodeB.variant });
    expect(self).toBe(nodeB);
    await expect(nodeA.call.NodeB.collect.call({})).resolves.toEqual([{ variant: nodeB.variant }]);

    // Neither level is a thenable, symbols are undefined, and `call` is the command's own method.
    const tree = nodeA.call as unknown as Record<string | symbol, unknown>;
    expect(tree.then).toBeUndefined();
    expect(tree[Symbol.iterator]).toBeUndefined();
    expect((nodeA.call.NodeB as unknown as Record<string, unknown>).then).toBeUndefined();
    expect(typeof nodeA.call.NodeB.whoami).toBe('object');
    // eslint-disable-next-line @typescript-eslint/await-thenable -- proves the tree is not a thenable
    const awaited = (await nodeA.call.NodeB) as unknown as typeof nodeA.call.NodeB;
    expect(typeof awaited.whoami.call).toBe('function');

    // Errors come from the call, as the node decides.
    expect((await rejection(nodeA.call.NodeB.nothing.call())).code).toBe('MESH_UNKNOWN_COMMAND');
    expect((await rejection(nodeA.call.NodeB['constructor' as string]!.call())).code).toBe('MESH_UNKNOWN_COMMAND');
    expect((await rejection(nodeA.call.NodeC.status.call())).code).toBe('MESH_ACCESS_DENIED');
    expect((await rejection(nodeB.call.NodeA.status.call())).code).toBe('MESH_ACCESS_DENIED');
  });

  it('discovers the manager over its discovery port when no port is given', async () => {
    const discoveryPort = await freePort();
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: { _allow: ['NodeA'], _commands: { _balanced: { ping: () => 'pong' } } },
    };
    const manager = track(new Manager({ schema, publicKey, privateKey, port: undefined, discoveryPort, logLevel: 'warn' }));
    await manager.ready();
    expect(manager.discoveryPort).toBe(discoveryPort);
    const response = await fetch(`http://127.0.0.1:${discoveryPort}/socket-mesh/port`);
    expect(await response.json()).toEqual({ port: manager.port });

    const nodeB = track(new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, discoveryPort, logLevel: 'warn' }));
    const nodeA = track(
      new SocketNode({ worker: 'NodeA', schema, publicKey, privateKey, ip: 'localhost', discoveryPort, logLevel: 'warn' }),
    );
    await Promise.all([nodeA.ready(), nodeB.ready()]);
    await linked(nodeA, 'NodeB');
    await expect(nodeA.call.NodeB.ping.call()).resolves.toBe('pong');
  });

  it('close() releases every socket, server and timer', async () => {
    // Sockets of the tests before finish closing on the next turns of the loop.
    await waitFor(() => meshResources().servers + meshResources().sockets === 0, 3000, 'earlier tests to release their sockets');
    const before = meshResources();
    const port = await freePort();
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: {
        _allow: ['NodeA'],
        _commands: { _balanced: { ping: () => 'pong' }, _broadcast: { store: { method: () => undefined, queued: true } } },
      },
    };
    const manager = new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' });
    const nodeB = new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, port, logLevel: 'warn' });
    const nodeA = new SocketNode({ worker: 'NodeA', schema, publicKey, privateKey, port, logLevel: 'warn' });
    try {
      await Promise.all([nodeA.ready(), nodeB.ready()]);
      await linked(nodeA, 'NodeB');
      await expect(nodeA.call.NodeB.ping.call()).resolves.toBe('pong');
      await expect(nodeA.call.NodeB.store.call({ n: 1 })).resolves.toEqual({ queued: 1 });
      expect(meshResources().servers).toBe(3);
    } finally {
      await Promise.all([nodeA.close(), nodeB.close(), manager.close()]);
    }
    expect(nodeA.meshServer.listening).toBe(false);
    // Sockets finish closing on the next turns of the loop; anything still open after that leaked.
    await waitFor(
      () => {
        const now = meshResources();
        return now.servers === 0 && now.sockets === 0 && now.timers <= before.timers;
      },
      3000,
      `no server, socket or extra timer (before ${JSON.stringify(before)})`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; now ${JSON.stringify(meshResources())}`);
    });
    // A closed node refuses calls rather than hanging.
    expect((await rejection(nodeA.call.NodeB.ping.call())).code).toBe('MESH_CLOSED');
  });

  it('keeps retrying while the manager is away, and registers once it comes', async () => {
    const port = await freePort();
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: { _allow: ['NodeA'], _commands: { _balanced: { ping: () => 'pong' } } },
    };
    const lines: string[] = [];
    const logger = { trace() {}, debug() {}, info() {}, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const nodeB = track(new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, port, logger }));
    const nodeA = track(new SocketNode({ worker: 'NodeA', schema, publicKey, privateKey, port, logger }));
    // Both tried and failed (and said so) before the manager exists.
    await waitFor(() => lines.filter((l) => /manager/.test(l)).length >= 2, 5000, 'both nodes to report the missing manager');
    expect(nodeA.meshServer.listening).toBe(true);
    expect(nodeA.managerConnected).toBe(false);
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' }));
    await Promise.all([nodeA.ready(), nodeB.ready()]);
    expect(nodeA.managerConnected).toBe(true);
    await linked(nodeA, 'NodeB');
    await expect(nodeA.call.NodeB.ping.call()).resolves.toBe('pong');
  });

  it('close() finishes a call in flight and delivers its answer, then callers stop choosing the instance', async () => {
    const port = await freePort();
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: {
        _allow: ['NodeA'],
        _commands: {
          _balanced: {
            async slow({ ms }: { ms: number }) {
              await delay(ms);
              return { finished: ms };
            },
            ping: () => 'pong',
          },
        },
      },
    };
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' }));
    const nodeB = track(new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, port, logLevel: 'warn' }));
    const disconnections: SocketNodeConnection[] = [];
    const nodeA = track(
      new SocketNode({
        worker: 'NodeA',
        schema,
        publicKey,
        privateKey,
        port,
        logLevel: 'warn',
        onDisconnection: (c) => disconnections.push(c),
      }),
    );
    await Promise.all([nodeA.ready(), nodeB.ready()]);
    await linked(nodeA, 'NodeB');

    const inFlight = nodeA.call.NodeB.slow.call({ ms: 300 });
    // The request is on its way once NodeB answers a later one on the same link.
    await expect(nodeA.call.NodeB.ping.call()).resolves.toBe('pong');
    const closing = nodeB.close();
    await expect(inFlight).resolves.toEqual({ finished: 300 });
    await closing;

    // Gone for good: the next call fails at once, not after its timeout.
    await waitFor(() => nodeA.peers('NodeB').length === 0, 2000, 'NodeB to leave the peers');
    const started = Date.now();
    expect((await rejection(nodeA.call.NodeB.ping.call(undefined, { timeout: 3000 }))).code).toBe('MESH_NO_PEER');
    expect(Date.now() - started).toBeLessThan(1000);
    // One leave, one event (LEAVING and the disconnect that follows are the same departure).
    expect(disconnections).toEqual([{ worker: 'NodeB', variant: nodeB.variant, direction: 'outgoing' }]);
  });

  it('a mesh port in use is logged and retried, never thrown', async () => {
    const port = await freePort();
    const meshPort = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(meshPort, resolve));
    const schema: MeshSchema = {
      NodeA: { _connect: ['NodeB'] },
      NodeB: { _allow: ['NodeA'], _commands: { _balanced: { ping: () => 'pong' } } },
    };
    const lines: string[] = [];
    const logger = { trace() {}, debug() {}, info() {}, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    track(new Manager({ schema, publicKey, privateKey, port, logLevel: 'warn' }));
    const nodeB = track(new SocketNode({ worker: 'NodeB', schema, publicKey, privateKey, port, meshPort, logger }));
    try {
      await waitFor(() => lines.some((l) => /could not start .*EADDRINUSE/.test(l)), 5000, 'the start failure to be logged');
      expect(nodeB.meshServer.listening).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    await nodeB.ready();
    expect(nodeB.meshServer.port).toBe(meshPort);
    const nodeA = track(new SocketNode({ worker: 'NodeA', schema, publicKey, privateKey, port, logLevel: 'warn' }));
    await nodeA.ready();
    await linked(nodeA, 'NodeB');
    await expect(nodeA.call.NodeB.ping.call()).resolves.toBe('pong');
  });
});

describe("plain API: the seed's call tree and shared schema", () => {
  it('lists callable workers and their commands, accepts null methods of other workers, and takes peers() objects in only/exclude', async () => {
    const port = await freePort();
    const nodeBSchema = (): MeshSchema => ({
      NodeA: { _connect: ['NodeB'], _commands: { _balanced: { ping: null } } },
      NodeB: {
        _allow: ['NodeA'],
        _commands: {
          _balanced: {
            whoami() {
              return (this as SocketNode).variant;
            },
          },
          _broadcast: {
            collect: {
              method() {
                return 1;
              },
              responds: true,
            },
          },
        },
      },
      NodeC: { _allow: ['NodeA'] },
    });
    // NodeA's process fills only its own methods: the other workers' commands are null.
    const nodeASchema = {
      NodeA: { _connect: ['NodeB'], _commands: { _balanced: { ping: () => 'pong' } } },
      NodeB: { _allow: ['NodeA'], _commands: { _balanced: { whoami: null }, _broadcast: { collect: null } } },
      NodeC: { _allow: ['NodeA'] },
    } as unknown as MeshSchema;
    track(new Manager({ schema: nodeBSchema(), publicKey, privateKey, port, logLevel: 'warn' }));
    const b1 = track(new SocketNode({ worker: 'NodeB', schema: nodeBSchema(), publicKey, privateKey, port, logLevel: 'warn' }));
    const b2 = track(new SocketNode({ worker: 'NodeB', schema: nodeBSchema(), publicKey, privateKey, port, logLevel: 'warn' }));
    const a = track(new SocketNode({ worker: 'NodeA', schema: nodeASchema, publicKey, privateKey, port, logLevel: 'warn' }));
    await Promise.all([a.ready(), b1.ready(), b2.ready()]);
    await linked(a, 'NodeB', 2);

    expect(Object.keys(a.call)).toEqual(['NodeB']);
    expect(Object.keys(a.call.NodeB)).toEqual(['whoami', 'collect']);
    expect('NodeB' in a.call).toBe(true);
    expect('NodeC' in a.call).toBe(false);
    expect('whoami' in a.call.NodeB).toBe(true);
    expect(Object.getOwnPropertyDescriptor(a.call, 'NodeB')).toMatchObject({ enumerable: true, writable: false });
    expect(() => {
      (a.call as unknown as Record<string, unknown>).NodeB = 1;
    }).toThrow(TypeError);
    expect((a.call as unknown as Record<string, unknown>).then).toBeUndefined();

    // A null in the node's own worker fails, naming it.
    expect(() => new SocketNode({ worker: 'NodeB', schema: nodeASchema, publicKey, privateKey, port, logLevel: 'warn' })).toThrow(
      /worker 'NodeB': command 'whoami': is null/,
    );

    const [p1, p2] = a.peers('NodeB');
    await expect(a.call.NodeB.whoami.call(undefined, { only: p1 })).resolves.toBe(p1!.variant);
    await expect(a.call.NodeB.whoami.call(undefined, { exclude: [p1!] })).resolves.toBe(p2!.variant);
    await expect(a.call.NodeB.whoami.call(undefined, { only: [p2!.variant, p1!], exclude: p1!.variant })).resolves.toBe(
      p2!.variant,
    );
    await expect(a.call.NodeB.collect.call({}, { only: a.peers('NodeB') })).resolves.toEqual([1, 1]);
    const bad = await rejection(a.call.NodeB.whoami.call(undefined, { only: 42 as never }));
    expect(bad.code).toBe('MESH_BAD_REQUEST');
    expect(bad.message).toMatch(/^only must be/);

    // NodeC is a defined worker outside NodeA's connect list: refused, with no "did you mean 'NodeB'?".
    const denied = await rejection(a.call.NodeC.status.call());
    expect(denied.code).toBe('MESH_ACCESS_DENIED');
    expect(denied.message).not.toMatch(/did you mean/);
    expect((await rejection(a.call.nodeB.status.call())).message).toMatch(/did you mean 'NodeB'/);
  });
});
