/**
 * Issue 14, items 3-5: nothing before the key proof, a dialer that trusts nothing before it,
 * and a manager socket port without HTTP routes. Real Manager and MeshNodes on loopback,
 * attacked with raw WebSockets, socket.io clients and fake peers (test/support/fake-peer.ts).
 * Each test names the 0.1.0 behaviour it rules out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HandshakeInitiator } from '../lib/core/crypto/handshake.js';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { MeshErrorCode } from '../lib/core/errors.js';
import { Manager } from '../lib/core/manager.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { Msg } from '../lib/core/protocol.js';
import { FakePeer, type FakeConnection } from './support/fake-peer.js';
import {
  CapturingLogger,
  KeyHolder,
  offTestStack,
  openRawWs,
  openSocketIo,
  socketIoEnd,
  within,
  wsSend,
  type WsPeer,
} from './support/hostile-client.js';
import { HANDSHAKE_TIMEOUT, startHostileMesh, workerOptions, type HostileMesh } from './support/hostile-mesh.js';
import { TEST_KEYS } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

let mesh: HostileMesh;
let seq = 0;
const toClose: (() => unknown)[] = [];

beforeAll(async () => {
  mesh = await startHostileMesh();
}, 20_000);

afterAll(async () => {
  for (const close of toClose.splice(0).reverse()) await close();
  await mesh?.close();
}, 20_000);

function rawWs(port: number): WsPeer {
  const peer = openRawWs(port);
  toClose.push(() => peer.ws.terminate());
  return peer;
}

/** Opened, or refused at the upgrade / closed at once: which one, within `ms`. */
async function openOutcome(peer: WsPeer, ms: number): Promise<'open' | 'refused'> {
  return within(
    peer.opened.then(
      () => 'open' as const,
      () => 'refused' as const,
    ),
    ms,
    'the WebSocket to open or be refused',
  );
}

const warnings = (log: CapturingLogger, mark: number, pattern: RegExp) =>
  log.problemsSince(mark).filter((l) => pattern.test(l.message));

// ---------------------------------------------------------------------------------------------

describe('nothing before the proof', () => {
  it.each(['mesh', 'manager'] as const)(
    '%s: 40 socket.io CONNECTs on one engine.io connection get at most one handshake and one log line (0.1.0: 40 key pairs, 40 hellos, 40 warnings)',
    async (target) => {
      await offTestStack();
      const port = target === 'mesh' ? mesh.meshPort : mesh.managerPort;
      const log = target === 'mesh' ? mesh.logs.nodeB : mesh.logs.manager;
      const mark = log.mark();
      const peer = rawWs(port);
      await within(peer.opened, 2000, 'the WebSocket to open');
      const role = target === 'mesh' ? 'caller' : 'worker';
      const hellos = Array.from(
        { length: 40 },
        (_, i) => new HandshakeInitiator(mesh.keys, { role, worker: 'NodeA', variant: `multi-${++seq}-${i}` }).hello,
      );
      for (const hello of hellos) wsSend(peer.ws, `40${JSON.stringify({ hello })}`);
      await within(peer.closed, 2000 + HANDSHAKE_TIMEOUT, 'the server to close the connection');
      const serverHellos = peer.received.filter((m) => typeof m === 'string' && m.startsWith('42["sm:hello"'));
      expect(serverHellos.length).toBeLessThanOrEqual(1);
      expect(log.problemsSince(mark).length).toBeLessThanOrEqual(2);
      await mesh.assertServing();
    },
  );

  it('mesh: 20 callers with other keys make one warning for their address, the rest at debug (0.1.0: 20 warnings)', async () => {
    await offTestStack();
    const otherKeys = deriveMeshKeys(TEST_KEYS.publicKey, 'an-entirely-different-private-key-0123456789');
    const mark = mesh.logs.nodeB.mark();
    for (let i = 0; i < 20; i++) {
      const hello = new HandshakeInitiator(otherKeys, { role: 'caller', worker: 'NodeA', variant: `other-keys-${++seq}` }).hello;
      const socket = openSocketIo(mesh.meshUrl, { hello });
      toClose.push(() => socket.disconnect());
      const end = await socketIoEnd(socket, 2000);
      expect(end.denials.map((d) => d.code)).toEqual([MeshErrorCode.AUTH_FAILED]);
    }
    await mesh.logs.nodeB.waitForLine(/refused a connection from .*no key in common/, mark, 2000);
    expect(warnings(mesh.logs.nodeB, mark, /refused a connection/).length).toBeLessThanOrEqual(1);
    await mesh.assertServing();
  });

  describe('limits on a worker and a manager with small caps', () => {
    let capped: MeshNode;
    let limited: MeshNode;
    let manager: Manager;
    const logs = { capped: new CapturingLogger(), limited: new CapturingLogger(), manager: new CapturingLogger() };
    const CAP = 4;
    const RATE = 5;

    beforeAll(async () => {
      await offTestStack();
      capped = new MeshNode(
        workerOptions(mesh.manager, 'NodeC', logs.capped, {
          variant: 'NodeC-capped',
          allow: ['NodeA'],
          handshakeTimeout: 3000,
          maxUnauthenticated: CAP,
        }),
      );
      limited = new MeshNode(
        workerOptions(mesh.manager, 'NodeC', logs.limited, {
          variant: 'NodeC-limited',
          allow: ['NodeA'],
          handshakeTimeout: 3000,
          handshakesPerSecond: RATE,
        }),
      );
      manager = new Manager({
        ...TEST_KEYS,
        port: 0,
        host: '127.0.0.1',
        discoveryPort: false,
        logger: logs.manager,
        handshakeTimeout: 3000,
        maxUnauthenticated: CAP,
        registrationsPerSecond: 1_000_000,
      });
      await manager.ready();
      await capped.start();
      await limited.start();
      await Promise.all([capped.ready(), limited.ready()]);
    }, 20_000);

    afterAll(async () => {
      await capped?.close();
      await limited?.close();
      await manager?.close();
    }, 20_000);

    it('a binary attachment before the handshake closes the connection at once (0.1.0: buffered until the handshake timeout)', async () => {
      const peer = rawWs(capped.server.port);
      await within(peer.opened, 2000, 'the WebSocket to open');
      const sent = Date.now();
      wsSend(peer.ws, `451-${JSON.stringify(['sm:proof', { _placeholder: true, num: 0 }])}`);
      wsSend(peer.ws, Buffer.alloc(64 * 1024, 1));
      const { at } = await within(peer.closed, 2500, 'the server to close the connection');
      expect(at - sent).toBeLessThan(1000); // the handshake timeout is 3000 ms
    });

    it.each(['mesh', 'manager'] as const)(
      '%s: past maxUnauthenticated silent connections, new ones wait their turn in a bounded queue, beyond it refused at once; logged once (0.1.0: no cap; 0.2: refused, retried in a storm)',
      async (target) => {
        const port = target === 'mesh' ? capped.server.port : manager.port;
        const log = target === 'mesh' ? logs.capped : logs.manager;
        const engine = (target === 'mesh' ? capped.server : manager) as unknown as { io: { engine: { clientsCount: number } } };
        await waitFor(() => engine.io.engine.clientsCount === 0, 4000, 'earlier connections to go');
        const mark = log.mark();
        const silent = Array.from({ length: CAP }, () => rawWs(port));
        expect(await Promise.all(silent.map((p) => openOutcome(p, 2000)))).toEqual(Array(CAP).fill('open'));
        // The queue holds 4 × CAP; those wait (neither open nor refused), the rest are refused at once.
        const queued = Array.from({ length: 4 * CAP }, () => rawWs(port));
        let opened = 0;
        let refused = 0;
        for (const p of queued)
          p.opened.then(
            () => opened++,
            () => refused++,
          );
        const started = Date.now();
        const extra = Array.from({ length: 6 }, () => rawWs(port));
        expect(await Promise.all(extra.map((p) => openOutcome(p, 2000)))).toEqual(Array(6).fill('refused'));
        expect(Date.now() - started).toBeLessThan(2000);
        expect({ opened, refused }).toEqual({ opened: 0, refused: 0 });
        expect(warnings(log, mark, /already waiting for a handshake/).length).toBe(1);
        // A place frees: the next waiting connections open, in turn, without a retry.
        for (const p of silent) p.ws.terminate();
        await waitFor(() => opened === CAP, 2000, 'the first waiting connections to open');
        expect(refused).toBe(0);
        for (const p of queued) p.ws.terminate();
        await waitFor(() => engine.io.engine.clientsCount === 0, 4000, 'the silent connections to go');
        const again = rawWs(port);
        expect(await openOutcome(again, 2000)).toBe('open');
        again.ws.terminate();
      },
    );

    it('mesh: over handshakesPerSecond from one address, upgrades wait at that pace; more than its maximum wait is refused at once; logged once (0.1.0: no limit; 0.2: all refused)', async () => {
      const mark = logs.limited.mark();
      // 5 at once, then 5 a second for up to 8 s (40 more); the remaining 15 refused at once.
      const burst = Array.from({ length: 60 }, () => rawWs(limited.server.port));
      const openedAt: number[] = [];
      let refused = 0;
      const started = Date.now();
      for (const p of burst)
        p.opened.then(
          () => openedAt.push(Date.now() - started),
          () => refused++,
        );
      await waitFor(
        () => refused >= 10 && openedAt.length >= RATE,
        2000,
        'one second of connections to open and the rest over the pace to be refused',
      );
      expect(refused).toBeLessThanOrEqual(60 - 40 - RATE);
      expect(warnings(logs.limited, mark, /new connections a second/).length).toBe(1);
      // The waiting ones open at the pace, not all at once and not refused.
      await waitFor(() => openedAt.length >= 3 * RATE, 4000, 'two more seconds of connections to open');
      expect(openedAt[3 * RATE - 1]!).toBeGreaterThanOrEqual(1500);
      expect(refused).toBeLessThanOrEqual(60 - 40 - RATE);
      for (const p of burst) p.ws.terminate();
      // A real caller still gets through once the second is over.
      await waitFor(
        async () => {
          const holder = await KeyHolder.connect({
            url: `http://127.0.0.1:${limited.server.port}`,
            keys: mesh.keys,
            identity: { role: 'caller', worker: 'NodeA', variant: `late-${++seq}` },
            awaitWelcome: true,
          });
          holder.close();
          return holder.received.some((m) => m[0] === Msg.WELCOME);
        },
        5000,
        'a caller to be admitted again',
        200,
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('plaintext refusals are generic', () => {
  it('a key holder denied by allow gets "refused" in clear; the allow list only inside the sealed channel (0.1.0: the allow list in clear)', async () => {
    const holder = await KeyHolder.connect({
      url: mesh.meshUrl,
      keys: mesh.keys,
      identity: { role: 'caller', worker: 'NodeC', variant: `denied-${++seq}` },
      awaitWelcome: true,
    });
    toClose.push(() => holder.close());
    await holder.closed(2000);
    const sealed = await holder.waitForMessage((m) => m[0] === Msg.DENIED, 1000);
    expect(JSON.stringify(sealed)).toContain('NodeA');
    expect(holder.denials).toEqual([{ code: MeshErrorCode.ACCESS_DENIED, message: 'refused' }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the dialer trusts nothing before the proof', () => {
  /** Makes NodeA dial `fake` as a NodeB instance: a key holder registers it with the manager. */
  async function pointNodeAAt(fake: FakePeer): Promise<string> {
    await fake.listening;
    const variant = `fake-${++seq}`;
    const holder = await KeyHolder.connect({
      url: mesh.managerUrl,
      keys: mesh.keys,
      identity: { role: 'worker', worker: 'NodeB', variant },
    });
    toClose.push(() => holder.close());
    holder.sendSealed([
      [
        Msg.REGISTER,
        { worker: 'NodeB', variant, host: '127.0.0.1', port: fake.port, allow: ['NodeA'], connect: [], commands: {} },
      ],
    ]);
    await holder.waitForMessage((m) => m[0] === Msg.REGISTERED, 3000);
    return variant;
  }

  async function withFake(script: (c: FakeConnection, i: number) => void): Promise<FakePeer> {
    const fake = new FakePeer(script);
    toClose.push(() => fake.close());
    await pointNodeAAt(fake);
    return fake;
  }

  it('a peer that accepts and stalls is redialed after the handshake deadline, with backoff, without compression offered (0.1.0: connecting forever, deflate offered)', async () => {
    const fake = await withFake(() => undefined);
    await waitFor(() => fake.connections.length >= 3, 10_000, 'NodeA to redial the stalling peer twice');
    const [a, b, c] = fake.connections as [FakeConnection, FakeConnection, FakeConnection];
    expect(b.at - a.at).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50);
    expect(c.at - b.at).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50);
    for (const conn of fake.connections) expect(conn.extensions ?? '').not.toMatch(/permessage-deflate/);
    await mesh.assertServing();
  });

  it('a message over maxFrameSize plus a margin closes the connection (1009) before it is read (0.1.0: up to 100 MiB accepted)', async () => {
    const fake = await withFake((c) => c.ws.send(`42${JSON.stringify(['sm:hello', 'x'.repeat(256 * 1024)])}`));
    await waitFor(() => fake.connections.length >= 1, 5000, 'NodeA to dial the fake peer');
    const { code } = await within(fake.connections[0]!.closed, 3000, 'NodeA to close the connection');
    expect(code).toBe(1009);
    await mesh.assertServing();
  });

  it('a forged plaintext deny ends one attempt, not the link: NodeA redials (0.1.0: link closed for good, MESH_ACCESS_DENIED)', async () => {
    const mark = mesh.logs.nodeA.mark();
    const fake = await withFake((c) => {
      c.ws.send(`42${JSON.stringify(['sm:deny', { code: MeshErrorCode.ACCESS_DENIED, message: 'forged' }])}`);
      c.ws.send('41');
    });
    await waitFor(() => fake.connections.length >= 2, 5000, 'NodeA to redial after a forged deny');
    expect(mesh.logs.nodeA.lines.slice(mark).some((l) => /refused this worker/.test(l.message))).toBe(false);
    await mesh.assertServing();
  });

  it('manager link: a forged plaintext deny does not make ready() reject; the worker redials (0.1.0: ready() rejected at once)', async () => {
    await offTestStack();
    const fake = new FakePeer((c, i) => {
      if (i === 0) {
        c.ws.send(`42${JSON.stringify(['sm:deny', { code: MeshErrorCode.AUTH_FAILED, message: 'forged' }])}`);
        c.ws.send('41');
      }
    });
    toClose.push(() => fake.close());
    await fake.listening;
    const logger = new CapturingLogger();
    const node = new MeshNode({
      ...workerOptions(mesh.manager, 'NodeC', logger, { variant: `NodeC-fake-mgr-${++seq}`, allow: ['NodeA'] }),
      manager: { host: '127.0.0.1', port: fake.port },
    });
    let rejected: unknown;
    node.ready().catch((err: unknown) => (rejected = err));
    try {
      await node.start();
      await waitFor(() => fake.connections.length >= 3, 8000, 'the worker to redial the fake manager');
      expect(rejected).toBeUndefined();
    } finally {
      await node.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("the manager's socket port", () => {
  it.each(['/socket-mesh/nodes', '/socket-mesh/port', '/'])(
    'serves no HTTP route: GET %s is 404 (0.1.0: the registry on /socket-mesh/nodes)',
    async (path) => {
      const response = await fetch(`${mesh.managerUrl}${path}`, { signal: AbortSignal.timeout(3000) });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('NodeB');
    },
  );
});

// ---------------------------------------------------------------------------------------------

describe('names and registrations from the network', () => {
  async function register(
    extra: Record<string, unknown>,
    worker = 'NodeC',
  ): Promise<{ ms: number; refused: unknown[] | undefined }> {
    const variant = `reg-${++seq}`;
    const holder = await KeyHolder.connect({
      url: mesh.managerUrl,
      keys: mesh.keys,
      identity: { role: 'worker', worker, variant },
    });
    toClose.push(() => holder.close());
    const started = Date.now();
    holder.sendSealed([
      [Msg.REGISTER, { worker, variant, host: '127.0.0.1', port: 1, allow: ['NodeA'], connect: [], commands: {}, ...extra }],
    ]);
    const answer = await holder.waitForMessage((m) => m[0] === Msg.REFUSED || m[0] === Msg.REGISTERED, 5000);
    return { ms: Date.now() - started, refused: answer[0] === Msg.REFUSED ? answer : undefined };
  }

  it('40,000 names in allow are refused fast, with MESH_SCHEMA_INVALID (0.1.0: quadratic, 2.6 s of a blocked manager)', async () => {
    const names = Array.from({ length: 40_000 }, (_, i) => `N${i}`);
    // The hostile mesh's frames are 4 KiB: a manager with room for the list.
    const big = new Manager({
      ...TEST_KEYS,
      port: 0,
      host: '127.0.0.1',
      discoveryPort: false,
      logger: new CapturingLogger(),
      maxFrameSize: 1024 * 1024,
    });
    toClose.push(() => big.close());
    await big.ready();
    const holder = await KeyHolder.connect({
      url: `http://127.0.0.1:${big.port}`,
      keys: mesh.keys,
      identity: { role: 'worker', worker: 'NodeC', variant: 'big-1' },
    });
    toClose.push(() => holder.close());
    const started = Date.now();
    holder.sendSealed([
      [
        Msg.REGISTER,
        { worker: 'NodeC', variant: 'big-1', host: '127.0.0.1', port: 1, allow: names, connect: names, commands: {} },
      ],
    ]);
    const refused = await holder.waitForMessage((m) => m[0] === Msg.REFUSED, 5000);
    const ms = Date.now() - started;
    console.log(`40,000 names (allow and connect) refused in ${ms} ms`);
    expect(ms).toBeLessThan(500);
    expect(refused[1]).toMatchObject({ code: MeshErrorCode.SCHEMA_INVALID, message: expect.stringContaining('more than 1024') });
    // And 1025 commands.
    const second = await KeyHolder.connect({
      url: `http://127.0.0.1:${big.port}`,
      keys: mesh.keys,
      identity: { role: 'worker', worker: 'NodeC', variant: 'big-2' },
    });
    toClose.push(() => second.close());
    const commands = Object.fromEntries(
      Array.from({ length: 1025 }, (_, i) => [`c${i}`, { kind: 'balanced', responds: false, queued: false }]),
    );
    second.sendSealed([
      [Msg.REGISTER, { worker: 'NodeC', variant: 'big-2', host: '127.0.0.1', port: 1, allow: [], connect: [], commands }],
    ]);
    const tooMany = await second.waitForMessage((m) => m[0] === Msg.REFUSED, 5000);
    expect(tooMany[1]).toMatchObject({ code: MeshErrorCode.SCHEMA_INVALID, message: expect.stringContaining('more than 1024') });
  });

  it.each([
    ['a variant with a line break', { variant: 'x\ninfo: forged' }],
    ['a host with a line break', { host: '127.0.0.1\nwarn: forged' }],
    ['an allow entry with a line break', { allow: ['NodeA\nerror: forged'] }],
  ])('a registration with %s is refused MESH_SCHEMA_INVALID, nothing forged in the log', async (_what, extra) => {
    const mark = mesh.logs.manager.mark();
    const { refused } = await register(extra as Record<string, unknown>);
    expect(refused?.[1]).toMatchObject({ code: MeshErrorCode.SCHEMA_INVALID });
    for (const line of mesh.logs.manager.lines.slice(mark)) expect(line.message).not.toMatch(/\n/);
    await mesh.assertServing();
  });

  it.each([
    ['variant', 'NodeC/../x'],
    ['variant', 'a\nb'],
    ['variant', 'x'.repeat(129)],
  ])('a worker option %s %j is refused MESH_SCHEMA_INVALID naming the field', async (field, value) => {
    const { SocketNode } = await import('../lib/plain.js');
    expect(
      () =>
        new SocketNode({
          worker: 'NodeC',
          schema: { NodeC: {} },
          [field]: value,
          ip: '127.0.0.1',
          port: mesh.managerPort,
          ...TEST_KEYS,
        } as never),
    ).toThrow(expect.objectContaining({ code: MeshErrorCode.SCHEMA_INVALID, message: expect.stringContaining(field) }));
  });
});
