/**
 * Adversarial tests (DESIGN §4, §5): a real Manager (with a schema), NodeB (allow NodeA) and
 * NodeA (connect NodeB) in this process on loopback; hostile clients attack NodeB's mesh port
 * and the manager's port. Every attack must be refused, the attacked process must keep serving
 * (a real NodeA -> NodeB call after each test), and no connection may make a process log more
 * than one warning/error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  HandshakeInitiator,
  parseHello,
  proofMac,
  transcriptHash,
  type HandshakeIdentity,
  type HelloMessage,
} from '../lib/core/crypto/handshake.js';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from '../lib/core/errors.js';
import { MeshNode } from '../lib/core/mesh-node.js';
import { Events, Msg } from '../lib/core/protocol.js';
import {
  CapturingLogger,
  KeyHolder,
  openRawTcp,
  openRawWs,
  offTestStack,
  openSocketIo,
  rawWsKeyHolder,
  Rng,
  socketIoEnd,
  SUSPICIOUS_NAMES,
  waitForWs,
  within,
  wsSend,
} from './support/hostile-client.js';
import {
  HANDSHAKE_TIMEOUT,
  MAX_FRAME,
  MAX_HTTP_BUFFER,
  startHostileMesh,
  statusCalls,
  watchProcess,
  workerOptions,
  type HostileMesh,
} from './support/hostile-mesh.js';
import { TEST_KEYS } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

type Target = 'mesh' | 'manager';
const TARGETS: Target[] = ['mesh', 'manager'];
/** How long past the handshake timeout a drop may take on a busy machine. */
const SLACK = 1000;
const DROP_DEADLINE = HANDSHAKE_TIMEOUT + SLACK;

let mesh: HostileMesh;
let watcher: ReturnType<typeof watchProcess>;
let seq = 0;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  watcher = watchProcess();
  mesh = await startHostileMesh();
}, 20_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  // The attacked processes keep serving: a real call through the real link, registry intact.
  await mesh.assertServing();
  expect(watcher.seen).toEqual([]);
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await mesh?.close();
  watcher?.stop();
}, 20_000);

const urlOf = (t: Target) => (t === 'mesh' ? mesh.meshUrl : mesh.managerUrl);
const portOf = (t: Target) => (t === 'mesh' ? mesh.meshPort : mesh.managerPort);
const logOf = (t: Target) => (t === 'mesh' ? mesh.logs.nodeB : mesh.logs.manager);

/** At most one warning/error per hostile connection; each labelled attacker named at most once. */
function expectAtMostOncePerConnection(log: CapturingLogger, mark: number, connections: number, labels: string[] = []): void {
  const problems = log.problemsSince(mark);
  const dump = problems.map((l) => `${l.level}: ${l.message}`).join('\n');
  expect({ count: problems.length <= connections, dump }).toEqual({ count: true, dump });
  for (const label of labels) {
    expect(problems.filter((l) => l.message.includes(label)).map((l) => l.message).length).toBeLessThanOrEqual(1);
  }
}

/** A hostile socket.io socket, disconnected after the test whatever happens. */
function hostileSocket(url: string, auth?: unknown) {
  const socket = openSocketIo(url, auth);
  cleanups.push(() => socket.disconnect());
  return socket;
}

/**
 * A key-holding attacker past the handshake: on the mesh port an admitted caller (NodeA, own
 * variant), on the manager a registered NodeC (so the register timer cannot be what drops it).
 */
async function admittedKeyHolder(target: Target): Promise<{ holder: KeyHolder; label: string; variant: string }> {
  const variant = `attacker-${++seq}`;
  if (target === 'mesh') {
    const identity: HandshakeIdentity = { role: 'caller', worker: 'NodeA', variant };
    const holder = await KeyHolder.connect({ url: mesh.meshUrl, keys: mesh.keys, identity, awaitWelcome: true });
    cleanups.push(() => holder.close());
    expect(holder.received).toEqual([[Msg.WELCOME]]);
    return { holder, label: `NodeA/${variant}`, variant };
  }
  const identity: HandshakeIdentity = { role: 'worker', worker: 'NodeC', variant };
  const holder = await KeyHolder.connect({ url: mesh.managerUrl, keys: mesh.keys, identity });
  cleanups.push(() => holder.close());
  holder.sendSealed([[Msg.REGISTER, registration('NodeC', variant)]]);
  await holder.waitForMessage((m) => m[0] === Msg.REGISTERED, 3000);
  expect(mesh.manager.nodes().some((n) => n.variant === variant)).toBe(true);
  return { holder, label: `NodeC/${variant}`, variant };
}

function registration(worker: string, variant: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { worker, variant, host: '127.0.0.1', port: 1, allow: ['NodeA'], connect: [], commands: {}, ...extra };
}

/** After a key holder was dropped: gone from the manager's registry too. */
async function expectGone(target: Target, variant: string): Promise<void> {
  if (target === 'manager') {
    await waitFor(() => !mesh.manager.nodes().some((n) => n.variant === variant), 3000, `${variant} to leave the registry`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('no handshake at all', () => {
  it.each(TARGETS)('%s: socket.io without auth is refused with MESH_AUTH_FAILED and dropped', async (target) => {
    const mark = logOf(target).mark();
    for (const auth of [
      undefined,
      {},
      { hello: null },
      { hello: 'hi' },
      { hello: { v: 1 } },
      { hello: { v: 2, role: 'caller' } },
    ]) {
      const socket = hostileSocket(urlOf(target), auth);
      const end = await socketIoEnd(socket, DROP_DEADLINE);
      expect(end.denials.map((d) => d.code)).toEqual([MeshErrorCode.AUTH_FAILED]);
      expect(end.reason).toBe('io server disconnect');
    }
    await logOf(target).waitForLine(/refused a connection from .*hello is not an object/, mark, 2000);
    expectAtMostOncePerConnection(logOf(target), mark, 6);
  });

  it.each(TARGETS)('%s: auth that is not an object (socket.io CONNECT with a string) is dropped', async (target) => {
    const mark = logOf(target).mark();
    const socket = hostileSocket(urlOf(target), 'not-an-object');
    const end = await socketIoEnd(socket, DROP_DEADLINE);
    expect(end.denials).toEqual([]);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)('%s: a valid hello and then silence is dropped by the handshake timeout', async (target) => {
    await offTestStack();
    const mark = logOf(target).mark();
    const initiator = new HandshakeInitiator(mesh.keys, {
      role: target === 'mesh' ? 'caller' : 'worker',
      worker: 'NodeA',
      variant: `silent-${++seq}`,
    });
    const started = Date.now();
    const socket = hostileSocket(urlOf(target), { hello: initiator.hello });
    const end = await socketIoEnd(socket, DROP_DEADLINE, started);
    expect(end.denials).toEqual([
      { code: MeshErrorCode.AUTH_FAILED, message: `handshake: not completed within ${HANDSHAKE_TIMEOUT} ms` },
    ]);
    expect(end.reason).toBe('io server disconnect');
    expect(end.elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50);
    await logOf(target).waitForLine(`not completed within ${HANDSHAKE_TIMEOUT} ms`, mark, 2000);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)('%s: a WebSocket that never sends the socket.io CONNECT is closed by the timeout', async (target) => {
    const mark = logOf(target).mark();
    const peer = openRawWs(portOf(target));
    cleanups.push(() => peer.ws.terminate());
    await within(peer.opened, 2000, 'the WebSocket to open');
    const opened = Date.now();
    const { at } = await within(peer.closed, DROP_DEADLINE, 'the server to close a silent WebSocket');
    expect(at - opened).toBeLessThan(DROP_DEADLINE);
    expect(String(peer.received[0])).toMatch(/^0\{"sid"/); // engine.io's open packet, nothing else
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)('%s: a raw TCP connection that never sends a byte is closed by the timeout', async (target) => {
    const mark = logOf(target).mark();
    const peer = openRawTcp(portOf(target));
    cleanups.push(() => peer.socket.destroy());
    await within(peer.connected, 2000, 'the TCP connection');
    const connected = Date.now();
    const closedAt = await within(peer.closed, DROP_DEADLINE, 'the server to close a silent TCP connection');
    expect(closedAt - connected).toBeLessThan(DROP_DEADLINE);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)('%s: half-sent HTTP upgrade headers (slowloris) are closed by the timeout', async (target) => {
    const mark = logOf(target).mark();
    const peer = openRawTcp(portOf(target));
    cleanups.push(() => peer.socket.destroy());
    await within(peer.connected, 2000, 'the TCP connection');
    peer.socket.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);
    const sent = Date.now();
    const closedAt = await within(peer.closed, DROP_DEADLINE, 'the server to close a half-open HTTP request');
    expect(closedAt - sent).toBeLessThan(DROP_DEADLINE);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)(
    '%s: leaving the namespace mid-handshake (socket.io DISCONNECT packet) does not keep the connection open',
    async (target) => {
      await offTestStack();
      const mark = logOf(target).mark();
      const initiator = new HandshakeInitiator(mesh.keys, {
        role: target === 'mesh' ? 'caller' : 'worker',
        worker: 'NodeA',
        variant: `leaver-${++seq}`,
      });
      const peer = openRawWs(portOf(target));
      cleanups.push(() => peer.ws.terminate());
      await within(peer.opened, 2000, 'the WebSocket to open');
      wsSend(peer.ws, `40${JSON.stringify({ hello: initiator.hello })}`);
      await waitForWs(peer, (m) => typeof m === 'string' && m.startsWith('42["sm:hello"'), 2000, 'the server hello');
      wsSend(peer.ws, '41'); // leave '/', keep the engine.io connection: no handshake timer runs any more
      const left = Date.now();
      const { at } = await within(peer.closed, DROP_DEADLINE, 'the server to close a connection without a namespace');
      expect(at - left).toBeLessThan(DROP_DEADLINE);
      expectAtMostOncePerConnection(logOf(target), mark, 1);
    },
  );

  it.each(TARGETS)('%s: after a refused handshake the same connection cannot start over', async (target) => {
    const mark = logOf(target).mark();
    const peer = openRawWs(portOf(target));
    cleanups.push(() => peer.ws.terminate());
    await within(peer.opened, 2000, 'the WebSocket to open');
    wsSend(peer.ws, '40{"hello":"nope"}');
    for (let i = 0; i < 5; i++)
      wsSend(
        peer.ws,
        `40${JSON.stringify({ hello: new HandshakeInitiator(mesh.keys, { role: 'caller', worker: 'NodeA', variant: `again-${i}` }).hello })}`,
      );
    await within(peer.closed, DROP_DEADLINE, 'the server to close the refused connection');
    expect(peer.received.filter((m) => typeof m === 'string' && m.startsWith('42["sm:hello"'))).toEqual([]);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it('manager: a key holder that proves the keys but never registers is refused after the timeout', async () => {
    const mark = mesh.logs.manager.mark();
    const holder = await KeyHolder.connect({
      url: mesh.managerUrl,
      keys: mesh.keys,
      identity: { role: 'worker', worker: 'NodeC', variant: `lazy-${++seq}` },
    });
    cleanups.push(() => holder.close());
    await holder.closed(DROP_DEADLINE);
    const refused = await holder.waitForMessage((m) => m[0] === Msg.REFUSED, 100);
    expect((refused[1] as SerializedMeshError).code).toBe(MeshErrorCode.AUTH_FAILED);
    await mesh.logs.manager.waitForLine('no registration received', mark, 2000);
    expectAtMostOncePerConnection(mesh.logs.manager, mark, 1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('wrong keys', () => {
  /** Sends a hello, answers the server hello with `proofFor(...)`, reports the end. */
  async function attempt(
    target: Target,
    initiator: HandshakeInitiator | HelloMessage,
    proofFor: (serverHello: Record<string, unknown>) => unknown,
  ) {
    const hello = initiator instanceof HandshakeInitiator ? initiator.hello : initiator;
    const socket = hostileSocket(urlOf(target), { hello });
    socket.once(Events.HELLO, (serverHello: Record<string, unknown>) => socket.emit(Events.PROOF, proofFor(serverHello)));
    return socketIoEnd(socket, DROP_DEADLINE);
  }

  const identityFor = (target: Target): HandshakeIdentity => ({
    role: target === 'mesh' ? 'caller' : 'worker',
    worker: 'NodeA',
    variant: `intruder-${++seq}`,
  });

  it.each(TARGETS)('%s: a proof computed with other keys gets sm:deny MESH_AUTH_FAILED and a disconnect', async (target) => {
    await offTestStack();
    const mark = logOf(target).mark();
    const others = [
      deriveMeshKeys(TEST_KEYS.publicKey, 'not-the-private-key-0123456789abcdef'),
      deriveMeshKeys('another-mesh', TEST_KEYS.privateKey),
      deriveMeshKeys(TEST_KEYS.privateKey, TEST_KEYS.publicKey.padEnd(32, '-')),
    ];
    for (const wrong of others) {
      // The attacker names the mesh's key id (it is not secret) to get past the key choice,
      // cannot verify the server's MAC (other keys) and answers anyway.
      const hello: HelloMessage = { ...new HandshakeInitiator(wrong, identityFor(target)).hello, keys: [mesh.keys.keyId] };
      const end = await attempt(target, hello, (serverHello) => ({
        mac: proofMac(wrong, 'client', transcriptHash(hello, parseHello(serverHello, true))).toString('base64'),
      }));
      expect(end.denials).toHaveLength(1);
      expect(end.denials[0].code).toBe(MeshErrorCode.AUTH_FAILED);
      expect(end.denials[0].message).toMatch(/could not prove the shared keys/);
      expect(end.reason).toBe('io server disconnect'); // refused on the proof (the message says so), not by the timer
    }
    expectAtMostOncePerConnection(logOf(target), mark, others.length);
  });

  it.each(TARGETS)('%s: a hello offering only keys the node does not hold is refused before any server hello', async (target) => {
    await offTestStack();
    const mark = logOf(target).mark();
    const wrong = deriveMeshKeys(TEST_KEYS.publicKey, 'not-the-private-key-either-0123456789');
    const socket = hostileSocket(urlOf(target), { hello: new HandshakeInitiator(wrong, identityFor(target)).hello });
    let serverHellos = 0;
    socket.on(Events.HELLO, () => serverHellos++);
    const end = await socketIoEnd(socket, DROP_DEADLINE);
    expect(serverHellos).toBe(0);
    expect(end.denials.map((d) => d.code)).toEqual([MeshErrorCode.AUTH_FAILED]);
    expect(end.denials[0].message).toMatch(/no key in common/);
    expect(end.denials[0].message).not.toContain(TEST_KEYS.privateKey);
    expectAtMostOncePerConnection(logOf(target), mark, 1);
  });

  it.each(TARGETS)('%s: a hello whose name carries a forged log line is refused, and no line is forged', async (target) => {
    await offTestStack();
    const mark = logOf(target).mark();
    for (const [field, value] of [
      ['worker', 'NodeA\n[socket-mesh] INFO [Manager] NodeB/forged registered'],
      ['variant', 'v1\r\u001b[2K[socket-mesh] INFO forged'],
      ['variant', 'x'.repeat(129)],
    ] as const) {
      const hello = { ...new HandshakeInitiator(mesh.keys, identityFor(target)).hello, [field]: value };
      const socket = hostileSocket(urlOf(target), { hello });
      const end = await socketIoEnd(socket, DROP_DEADLINE);
      expect(end.denials.map((d) => d.code)).toEqual([MeshErrorCode.AUTH_FAILED]);
      expect(end.denials[0].message).toContain(`field '${field}' is not a name`);
    }
    const logged = logOf(target)
      .lines.slice(mark)
      .map((l) => l.message);
    expect(logged.join('\n')).not.toContain('forged');
    // eslint-disable-next-line no-control-regex -- the escape character is what must not get through
    expect(logged.every((m) => !/[\r\n\u001b]/.test(m))).toBe(true);
  });

  const garbageProofs: [string, (serverHello: Record<string, unknown>) => unknown][] = [
    ['random 32-byte mac', () => ({ mac: randomBytes(32).toString('base64') })],
    ['empty mac', () => ({ mac: '' })],
    ['non-base64 mac', () => ({ mac: '!!!! not base64 ~~~~' })],
    ['numeric mac', () => ({ mac: 42 })],
    ['huge mac', () => ({ mac: 'A'.repeat(3000) })],
    ['no mac', () => ({})],
    ['null', () => null],
    ['a string', () => 'proof'],
    ['an array', () => [1, 2, 3]],
    ['the server MAC reflected back', (serverHello) => ({ mac: serverHello.mac })],
    ['a getter-looking object', () => ({ mac: { toString: 'x' }, __proto__: { mac: 'y' } })],
  ];

  it.each(TARGETS)('%s: a legit-looking hello answered with a garbage proof gets MESH_AUTH_FAILED', async (target) => {
    await offTestStack();
    const mark = logOf(target).mark();
    for (const [what, proof] of garbageProofs) {
      const initiator = new HandshakeInitiator(mesh.keys, identityFor(target));
      const end = await attempt(target, initiator, proof);
      expect({ what, codes: end.denials.map((d) => d.code), reason: end.reason }).toEqual({
        what,
        codes: [MeshErrorCode.AUTH_FAILED],
        reason: 'io server disconnect',
      });
    }
    expectAtMostOncePerConnection(logOf(target), mark, garbageProofs.length);
  });

  it.each(TARGETS)('%s: a recorded hello + proof replayed by someone without the keys is refused', async (target) => {
    const mark = logOf(target).mark();
    // A genuine key holder's handshake, as a passive eavesdropper would record it.
    const genuine = await KeyHolder.connect({ url: urlOf(target), keys: mesh.keys, identity: identityFor(target) });
    genuine.close();
    expect(genuine.proof).toBeDefined();
    const socket = hostileSocket(urlOf(target), { hello: genuine.hello });
    socket.once(Events.HELLO, () => socket.emit(Events.PROOF, genuine.proof));
    const end = await socketIoEnd(socket, DROP_DEADLINE);
    expect(end.denials.map((d) => d.code)).toEqual([MeshErrorCode.AUTH_FAILED]);
    expect(end.reason).toBe('io server disconnect');
    expectAtMostOncePerConnection(logOf(target), mark, 2);
  });

  it('a real worker started with other keys cannot join: ready() rejects MESH_AUTH_FAILED', async () => {
    await offTestStack();
    const mark = mesh.logs.manager.mark();
    const logger = new CapturingLogger();
    const intruder = new MeshNode(
      workerOptions(mesh.manager, 'NodeC', logger, {
        variant: 'NodeC-wrong-keys',
        allow: ['NodeA'],
        privateKey: 'wrong-private-key-0123456789abcdefghij',
      }),
    );
    try {
      await intruder.start();
      const err = await intruder.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MeshError);
      expect((err as MeshError).code).toBe(MeshErrorCode.AUTH_FAILED);
      expect(mesh.manager.nodes().some((n) => n.variant === 'NodeC-wrong-keys')).toBe(false);
      await mesh.logs.manager.waitForLine(/refused a connection/, mark, 2000);
    } finally {
      await intruder.close();
    }
    // The intruder logs its failure once, not once per retry.
    expect(logger.problemsSince(0).length).toBeLessThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('frames', () => {
  it.each(TARGETS)('%s: a legitimate frame sent again (replay) closes the connection', async (target) => {
    const mark = logOf(target).mark();
    const { holder, label, variant } = await admittedKeyHolder(target);
    if (target === 'mesh') {
      const answer = await holder.request(1, 'status', { x: 1 });
      expect(answer).toEqual([Msg.RESULT, 1, { status: 'ok', echo: { x: 1 } }]);
    }
    const captured = holder.sent[holder.sent.length - 1];
    const before = statusCalls();
    holder.emitFrame(captured);
    await holder.closed(2000);
    await logOf(target).waitForLine(`dropped ${label}: frame failed authentication`, mark, 2000);
    expect(statusCalls()).toBe(before); // the replayed request never ran
    await expectGone(target, variant);
    expectAtMostOncePerConnection(logOf(target), mark, 1, [label]);
  });

  it.each(TARGETS)('%s: a frame recorded on one connection and replayed on another closes it', async (target) => {
    const mark = logOf(target).mark();
    const first = await admittedKeyHolder(target);
    const second = await admittedKeyHolder(target);
    const recorded = first.holder.seal([[Msg.REQUEST, 1, 'status', { stolen: true }]]);
    second.holder.emitFrame(recorded);
    await second.holder.closed(2000);
    await logOf(target).waitForLine(`dropped ${second.label}: frame failed authentication`, mark, 2000);
    expect(first.holder.connected).toBe(true);
    expectAtMostOncePerConnection(logOf(target), mark, 2, [first.label, second.label]);
  });

  it.each(TARGETS)('%s: two frames delivered out of order close the connection', async (target) => {
    const mark = logOf(target).mark();
    const { holder, label } = await admittedKeyHolder(target);
    const one = holder.seal([[Msg.REQUEST, 1, 'status']]);
    const two = holder.seal([[Msg.REQUEST, 2, 'status']]);
    const before = statusCalls();
    holder.emitFrame(two);
    holder.emitFrame(one);
    await holder.closed(2000);
    await logOf(target).waitForLine(`dropped ${label}: frame failed authentication`, mark, 2000);
    expect(statusCalls()).toBe(before);
    expectAtMostOncePerConnection(logOf(target), mark, 1, [label]);
  });

  const flipAt: [string, (frame: Buffer) => number][] = [
    ['first ciphertext byte', () => 0],
    ['a middle ciphertext byte', (f) => Math.floor((f.length - 16) / 2)],
    ['the authentication tag', (f) => f.length - 1],
  ];
  const flipCases = TARGETS.flatMap((t) => flipAt.map(([where, at]) => [t, where, at] as const));

  it.each(flipCases)('%s: one bit flipped in %s closes the connection', async (target, _where, at) => {
    const mark = logOf(target).mark();
    const { holder, label } = await admittedKeyHolder(target);
    const frame = holder.seal([[Msg.REQUEST, 7, 'status', { pay: 'load' }]]);
    const index = at(frame);
    frame[index] ^= 0x01;
    const before = statusCalls();
    holder.emitFrame(frame);
    await holder.closed(2000);
    await logOf(target).waitForLine(`dropped ${label}: frame failed authentication`, mark, 2000);
    expect(statusCalls()).toBe(before);
    expectAtMostOncePerConnection(logOf(target), mark, 1, [label]);
  });

  const rng = new Rng(0x5eed);
  const badFrames: [string, RegExp, (h: KeyHolder) => unknown[]][] = [
    ['random bytes', /failed authentication/, () => [rng.bytes(64)]],
    ['an empty Buffer', /failed authentication/, () => [Buffer.alloc(0)]],
    ['a Buffer shorter than the tag', /failed authentication/, () => [rng.bytes(15)]],
    [
      'a valid frame missing its last byte',
      /failed authentication/,
      (h) => [h.seal([[Msg.REQUEST, 1, 'status']]).subarray(0, -1)],
    ],
    [
      'a valid frame with a byte appended',
      /failed authentication/,
      (h) => [Buffer.concat([h.seal([[Msg.REQUEST, 1, 'status']]), Buffer.of(0)])],
    ],
    ['a valid frame cut to its tag', /failed authentication/, (h) => [h.seal([[Msg.REQUEST, 1, 'status']]).subarray(-16)]],
    ['a string', /not binary/, () => ['[[1,1,"status"]]']],
    ['an object', /not binary/, () => [{ type: 'Buffer', data: [1, 2, 3] }]],
    ['a number', /not binary/, () => [42]],
    ['null', /not binary/, () => [null]],
    ['no argument at all', /not binary/, () => []],
    ['sealed bytes that are not UTF-8 JSON', /failed authentication/, (h) => [h.seal(Buffer.of(0xff, 0xfe, 0x00))]],
    ['sealed JSON that is not a batch', /does not hold a message batch/, (h) => [h.seal('{"0":[1,1,"status"]}')]],
    ['a sealed batch of non-messages', /malformed message/, (h) => [h.seal('[1,2,3]')]],
    ['a sealed message typed by a string', /malformed message/, (h) => [h.seal('[["1",1,"status"]]')]],
  ];
  const badCases = TARGETS.flatMap((t) => badFrames.map(([what, reason, make]) => [t, what, reason, make] as const));

  it.each(badCases)('%s: %s as a frame closes the connection, logged once', async (target, _what, reason, make) => {
    const mark = logOf(target).mark();
    const { holder, label, variant } = await admittedKeyHolder(target);
    const before = statusCalls();
    holder.emitFrame(...make(holder));
    // Whatever follows a bad frame is never read.
    holder.sendSealed([[Msg.REQUEST, 99, 'status']]);
    await holder.closed(2000);
    const line = await logOf(target).waitForLine(`dropped ${label}:`, mark, 2000);
    expect(line.message).toMatch(reason);
    expect(statusCalls()).toBe(before);
    expect(holder.received.some((m) => m[1] === 99)).toBe(false);
    await expectGone(target, variant);
    expectAtMostOncePerConnection(logOf(target), mark, 1, [label]);
  });

  it.each(TARGETS)('%s: a sealed frame over maxFrameSize closes the connection', async (target) => {
    const mark = logOf(target).mark();
    const { holder, label } = await admittedKeyHolder(target);
    const big = holder.seal([[Msg.REQUEST, 1, 'status', 'x'.repeat(MAX_FRAME + 100)]]);
    expect(big.length).toBeLessThan(MAX_HTTP_BUFFER); // socket.io passes it on; our limit must catch it
    holder.emitFrame(big);
    await holder.closed(2000);
    await logOf(target).waitForLine(
      new RegExp(`dropped ${label}: frame of \\d+ bytes exceeds the limit of ${MAX_FRAME}`),
      mark,
      2000,
    );
    expectAtMostOncePerConnection(logOf(target), mark, 1, [label]);
  });

  it.each(TARGETS)("%s: a packet over socket.io's maxHttpBufferSize closes the connection, nothing crashes", async (target) => {
    const mark = logOf(target).mark();
    const { holder, label, variant } = await admittedKeyHolder(target);
    holder.emitFrame(randomBytes(MAX_HTTP_BUFFER * 16));
    const reason = await holder.closed(2000);
    expect(reason).toBe('transport close');
    await expectGone(target, variant);
    // Before any handshake too, as text and as binary.
    for (const payload of [`42["f","${'y'.repeat(MAX_HTTP_BUFFER * 2)}"]`, randomBytes(MAX_HTTP_BUFFER * 2)]) {
      const peer = openRawWs(portOf(target));
      cleanups.push(() => peer.ws.terminate());
      await within(peer.opened, 2000, 'the WebSocket to open');
      wsSend(peer.ws, payload);
      await within(peer.closed, 2000, 'the server to close an oversized WebSocket message');
    }
    expectAtMostOncePerConnection(logOf(target), mark, 3, [label]);
  });

  const rawCases = TARGETS.flatMap((t) =>
    [
      ['a bad frame', '42["f","garbage"]'],
      ['a socket.io DISCONNECT after the handshake', '41'],
    ].map(([what, packet]) => [t, what, packet] as const),
  );

  it.each(rawCases)(
    '%s: a raw-WebSocket key holder that ignores the server after %s still loses the connection',
    async (target, _what, packet) => {
      const mark = logOf(target).mark();
      const identity: HandshakeIdentity =
        target === 'mesh'
          ? { role: 'caller', worker: 'NodeA', variant: `raw-${++seq}` }
          : { role: 'worker', worker: 'NodeC', variant: `raw-${++seq}` };
      const register = target === 'manager' ? [[Msg.REGISTER, registration('NodeC', identity.variant)]] : undefined;
      const peer = await rawWsKeyHolder(portOf(target), mesh.keys, identity, register);
      cleanups.push(() => peer.ws.terminate());
      if (target === 'manager') expect(mesh.manager.nodes().some((n) => n.variant === identity.variant)).toBe(true);
      wsSend(peer.ws, packet);
      const sent = Date.now();
      const { at } = await within(peer.closed, DROP_DEADLINE, 'the server to close the connection');
      expect(at - sent).toBeLessThan(DROP_DEADLINE);
      expectAtMostOncePerConnection(logOf(target), mark, 1, [`${identity.worker}/${identity.variant}`]);
    },
  );

  it('mesh: well-sealed but odd messages are ignored or answered; the connection stays up', async () => {
    const mark = mesh.logs.nodeB.mark();
    const { holder, label } = await admittedKeyHolder('mesh');
    holder.sendSealed([
      [Msg.REQUEST, 1.5, 'status'],
      [Msg.REQUEST, 'x', 'status'],
      [Msg.REQUEST, 2 ** 60, 'status'],
      [Msg.REQUEST, 5, 42],
      [Msg.REQUEST, 6, null],
      [Msg.REQUEST, 7, { name: 'status' }],
      [Msg.REQUEST],
      [Msg.RESULT, 8, 'forged answer'],
      [Msg.ERROR, 9, { code: 'MESH_TIMEOUT' }],
      [Msg.WELCOME],
      [Msg.DENIED, {}],
      [Msg.REGISTER, {}],
      [Msg.TOPOLOGY, { peers: [] }],
      [999],
      [-1, 1, 'status'],
      [Msg.REQUEST, 10, 'status', { nested: [[[[[{ deep: true }]]]]] }],
    ]);
    const answer = await holder.request(11, 'status', 'after');
    expect(answer).toEqual([Msg.RESULT, 11, { status: 'ok', echo: 'after' }]);
    expect(holder.received.find((m) => m[1] === 10)).toEqual([
      Msg.RESULT,
      10,
      { status: 'ok', echo: { nested: [[[[[{ deep: true }]]]]] } },
    ]);
    // Only well-formed requests were answered.
    const answered = holder.received.filter((m) => m[0] === Msg.RESULT || m[0] === Msg.ERROR).map((m) => m[1]);
    expect(answered).toEqual([10, 11]);
    expect(holder.connected).toBe(true);
    expect(holder.openError).toBeUndefined();
    expectAtMostOncePerConnection(mesh.logs.nodeB, mark, 0, [label]);
  });

  it('manager: well-sealed but odd messages from a registered worker are ignored; the connection stays up', async () => {
    const mark = mesh.logs.manager.mark();
    const { holder, variant } = await admittedKeyHolder('manager');
    holder.sendSealed([
      [Msg.REGISTER, registration('NodeA', 'takeover')], // already registered: ignored, whatever it claims
      [Msg.REGISTER, null],
      [Msg.REQUEST, 1, 'status'],
      [Msg.RESULT, 1],
      [Msg.TOPOLOGY, { peers: [{ worker: 'NodeB', variant: 'x', host: 'evil', port: 1, commands: {} }], denied: [] }],
      [Msg.REFUSED, { code: 'MESH_AUTH_FAILED' }],
      [Msg.REGISTERED, {}],
      [999, { polluted: false }],
    ]);
    // `__proto__` as an own key, the way JSON.parse makes it.
    holder.sendSealed(`[[${Msg.REGISTER},{"__proto__":{"polluted":true}}],[999,{"__proto__":{"polluted":true}}]]`);
    holder.sendSealed([[Msg.UNREGISTER]]);
    // The UNREGISTER after the odd batch was read: the channel survived all of it.
    await waitFor(() => !mesh.manager.nodes().some((n) => n.variant === variant), 3000, 'the UNREGISTER to be processed');
    expect(mesh.manager.nodes().some((n) => n.variant === 'takeover')).toBe(false);
    expect(holder.connected).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectAtMostOncePerConnection(mesh.logs.manager, mark, 0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('only declared commands', () => {
  it('prototype names sent by a key-holding caller are each answered MESH_UNKNOWN_COMMAND', async () => {
    const mark = mesh.logs.nodeB.mark();
    const { holder } = await admittedKeyHolder('mesh');
    const names = [...SUSPICIOUS_NAMES, 'status ', 'STATUS', '', 'status\u0000', 'handler', 'commands'];
    const before = statusCalls();
    // One batch with all of them, then each alone.
    holder.sendSealed(names.map((name, i) => [Msg.REQUEST, 1000 + i, name, { payload: i }]));
    for (let i = 0; i < names.length; i++) {
      const answer = await holder.waitForMessage((m) => m[1] === 1000 + i, 3000);
      expect([names[i], answer[0], (answer[2] as SerializedMeshError).code]).toEqual([
        names[i],
        Msg.ERROR,
        MeshErrorCode.UNKNOWN_COMMAND,
      ]);
    }
    for (let i = 0; i < names.length; i++) {
      const answer = await holder.request(2000 + i, names[i]);
      expect([names[i], answer[0], (answer[2] as SerializedMeshError).code]).toEqual([
        names[i],
        Msg.ERROR,
        MeshErrorCode.UNKNOWN_COMMAND,
      ]);
    }
    expect(statusCalls()).toBe(before);
    expect(await holder.request(3000, 'status')).toEqual([Msg.RESULT, 3000, { status: 'ok' }]);
    expect(holder.connected).toBe(true);
    expectAtMostOncePerConnection(mesh.logs.nodeB, mark, 0);
  });

  it('metadata in the command slot: malformed or over its bounds is MESH_BAD_REQUEST, the handler does not run', async () => {
    const { holder } = await admittedKeyHolder('mesh');
    const bad: unknown[] = [
      null,
      'text',
      ['a'],
      { n: 1 },
      { ['k'.repeat(65)]: 'v' },
      Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])),
      { '': 'v' },
      // (the 4 KiB bound is over this mesh's 4 KiB maxFrameSize; nest-conventions checks it)
    ];
    const before = statusCalls();
    for (let i = 0; i < bad.length; i++) {
      const answer = await holder.request(4000 + i, ['status', bad[i]]).catch((err: Error) => {
        throw new Error(`${i}: ${err.message.slice(-300)}`);
      });
      expect([i, answer[0], (answer[2] as SerializedMeshError).code]).toEqual([i, Msg.ERROR, MeshErrorCode.BAD_REQUEST]);
    }
    expect(statusCalls()).toBe(before);
    // Well-formed metadata, '__proto__' as a plain key included, is accepted.
    const metadata: unknown = JSON.parse('{"__proto__":"x","trace":"t"}');
    expect(await holder.request(4100, ['status', metadata])).toEqual([Msg.RESULT, 4100, { status: 'ok' }]);
    expect(holder.connected).toBe(true);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'then', 'valueOf'])(
    "via the API: nodeA.call('NodeB', '%s') rejects MESH_UNKNOWN_COMMAND",
    async (name) => {
      const err = await mesh.nodeA.call('NodeB', name, undefined, { timeout: 2000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MeshError);
      expect((err as MeshError).code).toBe(MeshErrorCode.UNKNOWN_COMMAND);
    },
  );
});

// ---------------------------------------------------------------------------------------------

describe('workers that lie', () => {
  const deniedIdentities: [string, Omit<HandshakeIdentity, 'variant'>][] = [
    ["'NodeC', not in NodeB's allow", { role: 'caller', worker: 'NodeC' }],
    ["'NodeA' with the worker role", { role: 'worker', worker: 'NodeA' }],
    ["'NodeA' with the callee role", { role: 'callee', worker: 'NodeA' }],
    ['the manager', { role: 'manager', worker: 'manager' }],
    ["'anyNode' itself", { role: 'caller', worker: 'anyNode' }],
    ["'__proto__'", { role: 'caller', worker: '__proto__' }],
  ];

  it.each(deniedIdentities)('mesh: a key holder claiming to be %s is denied MESH_ACCESS_DENIED', async (_who, claimed) => {
    const mark = mesh.logs.nodeB.mark();
    const variant = `liar-${++seq}`;
    const holder = await KeyHolder.connect({
      url: mesh.meshUrl,
      keys: mesh.keys,
      identity: { ...claimed, variant },
      awaitWelcome: true,
    });
    cleanups.push(() => holder.close());
    await holder.closed(2000);
    expect(holder.received.some((m) => m[0] === Msg.WELCOME)).toBe(false);
    const denied = holder.received.find((m) => m[0] === Msg.DENIED);
    expect((denied?.[1] as SerializedMeshError | undefined)?.code).toBe(MeshErrorCode.ACCESS_DENIED);
    expect(holder.denials.map((d) => d.code)).toEqual([MeshErrorCode.ACCESS_DENIED]);
    expect(holder.disconnectReason).toBe('io server disconnect');
    expectAtMostOncePerConnection(mesh.logs.nodeB, mark, 1, [`${claimed.worker}/${variant}`]);
  });

  it('mesh: a denied caller that pipelines a request right after its proof never gets it run', async () => {
    const mark = mesh.logs.nodeB.mark();
    const before = statusCalls();
    const holder = await KeyHolder.connect({
      url: mesh.meshUrl,
      keys: mesh.keys,
      identity: { role: 'caller', worker: 'NodeC', variant: `sneaky-${++seq}` },
    });
    cleanups.push(() => holder.close());
    holder.sendSealed([[Msg.REQUEST, 1, 'status', 'sneaked']]);
    holder.sendSealed([[Msg.REQUEST, 2, 'status', 'sneaked']]);
    await holder.closed(2000);
    expect(statusCalls()).toBe(before);
    expect(holder.received.filter((m) => m[0] === Msg.RESULT || m[0] === Msg.ERROR)).toEqual([]);
    expect(holder.denials.map((d) => d.code)).toEqual([MeshErrorCode.ACCESS_DENIED]);
    expectAtMostOncePerConnection(mesh.logs.nodeB, mark, 1);
  });

  /** Registers over a key-holding connection; resolves with the REFUSED error. */
  async function refusedRegistration(identity: HandshakeIdentity, reg: unknown): Promise<SerializedMeshError> {
    const holder = await KeyHolder.connect({ url: mesh.managerUrl, keys: mesh.keys, identity });
    cleanups.push(() => holder.close());
    if (reg !== undefined) holder.sendSealed([[Msg.REGISTER, reg]]);
    await holder.closed(2000);
    expect(holder.received.some((m) => m[0] === Msg.REGISTERED)).toBe(false);
    const refused = holder.received.find((m) => m[0] === Msg.REFUSED);
    expect(refused).toBeDefined();
    expect(mesh.manager.nodes().some((n) => n.variant === identity.variant)).toBe(false);
    return refused![1] as SerializedMeshError;
  }

  const rightsLies: [string, string, Record<string, unknown>][] = [
    ['NodeC claims connect NodeB', 'NodeC', { connect: ['NodeB'] }],
    ["NodeC claims allow 'anyNode'", 'NodeC', { allow: 'anyNode' }],
    ["NodeC claims allow ['anyNode']", 'NodeC', { allow: ['anyNode'] }],
    ['NodeC claims allow NodeB as well', 'NodeC', { allow: ['NodeA', 'NodeB'] }],
    ['NodeA claims an allow it has none of', 'NodeA', { allow: ['NodeB'], connect: ['NodeB'] }],
    ['NodeB claims connect NodeA', 'NodeB', { allow: ['NodeA'], connect: ['NodeA'] }],
    ['NodeZ is not in the schema', 'NodeZ', {}],
  ];

  it.each(rightsLies)('manager with a schema: %s → refused MESH_ACCESS_DENIED', async (_what, worker, claims) => {
    const mark = mesh.logs.manager.mark();
    const variant = `liar-${++seq}`;
    const error = await refusedRegistration({ role: 'worker', worker, variant }, registration(worker, variant, claims));
    expect(error.code).toBe(MeshErrorCode.ACCESS_DENIED);
    expect(error.message).toMatch(/schema/);
    expectAtMostOncePerConnection(mesh.logs.manager, mark, 1);
  });

  it('manager: a real worker claiming rights the schema does not give gets ready() MESH_ACCESS_DENIED', async () => {
    await offTestStack();
    const mark = mesh.logs.manager.mark();
    const logger = new CapturingLogger();
    const liar = new MeshNode(
      workerOptions(mesh.manager, 'NodeC', logger, { variant: 'NodeC-liar', allow: ['NodeA'], connect: ['NodeB'] }),
    );
    try {
      await liar.start();
      const err = await liar.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as MeshError).code).toBe(MeshErrorCode.ACCESS_DENIED);
      expect(mesh.manager.nodes().some((n) => n.variant === 'NodeC-liar')).toBe(false);
    } finally {
      await liar.close();
    }
    expect(logger.problemsSince(0).length).toBeLessThanOrEqual(1);
    await mesh.logs.manager.waitForLine(/claims connect \["NodeB"\]/, mark, 1000);
  });

  const identityLies: [string, HandshakeIdentity, (v: string) => Record<string, unknown>][] = [
    [
      'another worker name',
      { role: 'worker', worker: 'NodeC', variant: 'id-lie-1' },
      () => registration('NodeA', 'id-lie-1', { connect: ['NodeB'], allow: [] }),
    ],
    ['another variant', { role: 'worker', worker: 'NodeC', variant: 'id-lie-2' }, () => registration('NodeC', 'NodeB-1')],
    [
      'both',
      { role: 'worker', worker: 'NodeC', variant: 'id-lie-3' },
      () => registration('NodeB', 'NodeB-1', { allow: ['NodeA'] }),
    ],
  ];

  it.each(identityLies)(
    'manager: a registration with %s than the handshake proved → refused MESH_AUTH_FAILED',
    async (_what, identity, reg) => {
      const mark = mesh.logs.manager.mark();
      const error = await refusedRegistration(identity, reg(identity.variant));
      expect(error.code).toBe(MeshErrorCode.AUTH_FAILED);
      expect(error.message).toMatch(/does not match the identity proven in the handshake/);
      // The real NodeB-1 registration was not touched.
      expect(mesh.manager.nodes().find((n) => n.variant === 'NodeB-1')?.worker).toBe('NodeB');
      expectAtMostOncePerConnection(mesh.logs.manager, mark, 1);
    },
  );

  it.each([
    ['caller', 'NodeA'],
    ['callee', 'NodeB'],
    ['manager', 'manager'],
  ] as const)('manager: a key holder with the %s role cannot register', async (role, worker) => {
    const mark = mesh.logs.manager.mark();
    const variant = `role-${++seq}`;
    const error = await refusedRegistration({ role, worker, variant }, registration(worker, variant));
    expect(error.code).toBe(MeshErrorCode.AUTH_FAILED);
    expectAtMostOncePerConnection(mesh.logs.manager, mark, 1);
  });

  const malformed: [string, (v: string) => unknown][] = [
    ['not an object', () => 'register me'],
    ['null', () => null],
    ['port 0', (v) => registration('NodeC', v, { port: 0 })],
    ['port as a string', (v) => registration('NodeC', v, { port: '80' })],
    ['commands as an array', (v) => registration('NodeC', v, { commands: [] })],
    ['a command of an unknown kind', (v) => registration('NodeC', v, { commands: { status: { kind: 'evil' } } })],
    ['a host of 3 kB', (v) => registration('NodeC', v, { host: 'h'.repeat(3000) })],
    ['allow as an object', (v) => registration('NodeC', v, { allow: { NodeA: true } })],
  ];

  it.each(malformed)('manager: a malformed registration (%s) is refused', async (_what, reg) => {
    const mark = mesh.logs.manager.mark();
    const variant = `malformed-${++seq}`;
    const error = await refusedRegistration({ role: 'worker', worker: 'NodeC', variant }, reg(variant));
    expect([MeshErrorCode.SCHEMA_INVALID, MeshErrorCode.AUTH_FAILED]).toContain(error.code);
    expectAtMostOncePerConnection(mesh.logs.manager, mark, 1);
  });

  it('after all the lies the manager still registers a legitimate worker', async () => {
    await mesh.assertRegistrationWorks();
  });
});
