/**
 * Fuzz (DESIGN §4): more than 10,000 random frames at NodeB's mesh port and at the manager's
 * port — random Buffers, random sealed JSON from key holders, random socket.io events, random
 * auth objects, random engine.io / socket.io packets on raw WebSockets — while NodeA keeps
 * calling NodeB. Afterwards: no crash, no unhandled rejection, every hostile connection gone
 * (no leaked sessions or links), legitimate calls still work, heap back near its baseline, and
 * no connection logged more than once.
 *
 * Seeded: FUZZ_SEED=<n> replays a run; the seed is in every failure message. FUZZ_REPORT=1 prints
 * what was sent, the hostile connection counts, the legitimate calls made and the heap growth.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HandshakeIdentity } from '../lib/core/crypto/handshake.js';
import { HandshakeInitiator } from '../lib/core/crypto/handshake.js';
import { Events, Msg } from '../lib/core/protocol.js';
import {
  KeyHolder,
  offTestStack,
  openRawWs,
  openSocketIo,
  Rng,
  socketIoEnd,
  SUSPICIOUS_NAMES,
  within,
  wsSend,
} from './support/hostile-client.js';
import {
  HANDSHAKE_TIMEOUT,
  MAX_FRAME,
  serverLoad,
  startHostileMesh,
  watchProcess,
  type HostileMesh,
} from './support/hostile-mesh.js';
import { waitFor } from './support/wait-for.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const rng = new Rng(SEED);
// Dozens of connections at once in one busy process: each is dropped within the handshake
// timeout of its server-side start (the main suite checks that precisely); here the deadline
// only tells "dropped late on a loaded machine" from "never dropped".
const DROP_DEADLINE = HANDSHAKE_TIMEOUT + 5000;
const HEAP_BOUND = 64 * 1024 * 1024;

type Target = 'mesh' | 'manager';
const TARGETS: Target[] = ['mesh', 'manager'];

let mesh: HostileMesh;
let watcher: ReturnType<typeof watchProcess>;
let baselineLoad: ReturnType<typeof serverLoad>;
let baselineHeap = 0;
const marks = { nodeA: 0, nodeB: 0, manager: 0 };
/** Frames (packets) written at the servers, by kind. */
const sent = { sealedSurvivors: 0, oneShotBad: 0, socketIo: 0, rawWs: 0, abrupt: 0 };
/** Hostile connections opened, per target. */
const connections = { mesh: 0, manager: 0 };
const labels: string[] = [];
let seq = 0;

// NodeA keeps calling NodeB for the whole fuzz: the attacked process must keep serving.
const legit = { ok: 0, failed: [] as string[], running: false, loop: Promise.resolve() };

beforeAll(async () => {
  watcher = watchProcess();
  mesh = await startHostileMesh();
  for (let i = 0; i < 20; i++) await mesh.assertServing(`warm-${i}`);
  baselineLoad = serverLoad(mesh);
  baselineHeap = process.memoryUsage().heapUsed;
  marks.nodeA = mesh.logs.nodeA.mark();
  marks.nodeB = mesh.logs.nodeB.mark();
  marks.manager = mesh.logs.manager.mark();
  legit.running = true;
  legit.loop = (async () => {
    for (let n = 0; legit.running; n++) {
      try {
        const answer = await mesh.nodeA.call('NodeB', 'status', { n }, { timeout: 3000 });
        if ((answer as { echo?: { n?: number } }).echo?.n === n) legit.ok++;
        else legit.failed.push(`call ${n}: wrong answer ${JSON.stringify(answer)}`);
      } catch (err) {
        legit.failed.push(`call ${n}: ${(err as Error).message}`);
        // A call that fails without I/O must not turn this loop into a microtask spin.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  })();
}, 20_000);

afterAll(async () => {
  legit.running = false;
  await legit.loop;
  await mesh?.close();
  watcher?.stop();
}, 20_000);

const urlOf = (t: Target) => (t === 'mesh' ? mesh.meshUrl : mesh.managerUrl);
const portOf = (t: Target) => (t === 'mesh' ? mesh.meshPort : mesh.managerPort);
const why = (what: string) => `${what} (FUZZ_SEED=${SEED})`;

/** Runs `task(i)` for i < count with at most `width` at once; rejects with the first failure. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    await offTestStack();
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

/** A key holder past the handshake; on the manager it registered as NodeC first. */
async function keyHolderOn(target: Target, register: boolean): Promise<{ holder: KeyHolder; variant: string }> {
  const variant = `fuzz-${++seq}`;
  connections[target]++;
  const identity: HandshakeIdentity =
    target === 'mesh' ? { role: 'caller', worker: 'NodeA', variant } : { role: 'worker', worker: 'NodeC', variant };
  labels.push(`${identity.worker}/${variant}`);
  // The servers' handshake deadline is short on purpose (300 ms): on a loaded machine a
  // legitimate handshake can miss it and be dropped. That is the server working as meant, not
  // what this suite fuzzes, so such a key holder connects again (a few times at most).
  let holder = await KeyHolder.connect({
    url: urlOf(target),
    keys: mesh.keys,
    identity,
    awaitWelcome: target === 'mesh',
    timeoutMs: DROP_DEADLINE,
  });
  for (let attempt = 1; !holder.established && attempt < 5; attempt++) {
    holder.close();
    holder = await KeyHolder.connect({
      url: urlOf(target),
      keys: mesh.keys,
      identity,
      awaitWelcome: target === 'mesh',
      timeoutMs: DROP_DEADLINE,
    });
  }
  if (!holder.established) throw new Error(why(`${identity.worker}/${variant} could not finish a handshake in 5 attempts`));
  if (target === 'manager' && register) {
    holder.sendSealed([
      [Msg.REGISTER, { worker: 'NodeC', variant, host: '127.0.0.1', port: 1, allow: ['NodeA'], connect: [], commands: {} }],
    ]);
    await holder.waitForMessage((m) => m[0] === Msg.REGISTERED, DROP_DEADLINE);
  }
  return { holder, variant };
}

/** A random, well-formed message (an array with a numeric type): the channel must keep it open. */
function randomMessage(target: Target, nextId: () => number): { message: unknown[]; answered?: number } {
  if (rng.int(10) < 6) {
    const odd = rng.int(8) === 0;
    const id = odd ? rng.pick<unknown>([1.5, 2 ** 60, 'id', null, -3.5, {}]) : nextId();
    const nameIsString = rng.int(12) !== 0;
    const name = !nameIsString
      ? rng.json(1)
      : rng.int(3) === 0
        ? 'status'
        : rng.bool()
          ? rng.pick(SUSPICIOUS_NAMES)
          : rng.string(12);
    const message = rng.bool() ? [Msg.REQUEST, id, name] : [Msg.REQUEST, id, name, rng.json(3)];
    return { message, answered: target === 'mesh' && !odd && nameIsString ? (id as number) : undefined };
  }
  const types: number[] = [
    Msg.RESULT,
    Msg.ERROR,
    Msg.LEAVING,
    Msg.WELCOME,
    Msg.DENIED,
    Msg.REGISTER,
    Msg.REGISTERED,
    Msg.TOPOLOGY,
    Msg.REFUSED,
    99,
    -1,
    0,
    1e9,
    1.5,
  ];
  // An UNREGISTER is how the manager test proves the channel survived: keep it for the end.
  return { message: [rng.pick(types), ...Array.from({ length: rng.int(4) }, () => rng.json(2))] };
}

/** A random thing that is not a valid frame for this connection. */
function randomBadFrame(holder: KeyHolder): unknown[] {
  switch (rng.int(9)) {
    case 0:
      return [rng.bytes(rng.int(200))];
    case 1:
      return [rng.json(3)]; // not binary (a Buffer-free JSON value)
    case 2:
      return [rng.string(50)];
    case 3: {
      const frame = holder.seal([[Msg.REQUEST, 1, 'status']]);
      frame[rng.int(frame.length)] ^= 1 << rng.int(8);
      return [frame];
    }
    case 4: {
      const frame = holder.seal([[Msg.REQUEST, 1, 'status']]);
      return [frame.subarray(0, rng.int(frame.length))];
    }
    case 5:
      return [holder.seal(rng.bytes(rng.int(100)))];
    case 6: {
      const value = rng.json(3);
      return [holder.seal(JSON.stringify(Array.isArray(value) ? { value } : value) ?? 'null')];
    }
    case 7:
      return [holder.seal(`[${JSON.stringify(rng.pick<unknown>(['x', null, {}, 1, true]))}]`)];
    default:
      return [holder.seal(Buffer.alloc(MAX_FRAME + 200, 0x5b))];
  }
}

/** A random socket.io `auth`: sometimes nearly a valid hello. */
function randomAuth(): unknown {
  const hello = new HandshakeInitiator(mesh.keys, {
    role: rng.pick(['caller', 'worker'] as const),
    worker: 'NodeA',
    variant: `rnd-${++seq}`,
  }).hello;
  switch (rng.int(6)) {
    case 0:
      return rng.json(3);
    case 1:
      return { hello: rng.json(3) };
    case 2: {
      const mutated: Record<string, unknown> = { ...hello };
      mutated[rng.pick(['v', 'role', 'worker', 'variant', 'nonce', 'eph', '__proto__', 'mac'])] = rng.json(2);
      return { hello: mutated };
    }
    case 3:
      // Invalid or low-order X25519 points.
      return {
        hello: {
          ...hello,
          eph: rng.pick([
            'A'.repeat(43),
            'AQ' + 'A'.repeat(41),
            rng.string(43),
            '',
            '7P___________________________________________8',
          ]),
        },
      };
    case 4:
      return { hello: { ...hello, role: rng.pick(['manager', 'callee', 'admin', 'caller ']) } };
    default:
      return { hello, extra: rng.json(2) };
  }
}

const SOCKET_IO_EVENT_NAMES = [
  Events.PROOF,
  Events.FRAME,
  Events.HELLO,
  Events.DENY,
  'error',
  'message',
  'constructor',
  '__proto__',
];

function randomEventArgs(): unknown[] {
  const args: unknown[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const r = rng.int(4);
    args.push(r === 0 ? rng.bytes(rng.int(300)) : r === 1 ? { buf: rng.bytes(16), mac: rng.string(10) } : rng.json(3));
  }
  return args;
}

/** A random engine.io v4 / socket.io v5 packet, as text or binary. */
function randomRawPacket(): string | Buffer {
  const hello = () => new HandshakeInitiator(mesh.keys, { role: 'caller', worker: 'NodeA', variant: `raw-${++seq}` }).hello;
  switch (rng.int(16)) {
    case 0:
      return rng.string(40);
    case 1:
      return rng.bytes(rng.int(64));
    case 2:
      return `40${JSON.stringify(rng.json(2))}`;
    case 3:
      return `40${JSON.stringify({ hello: hello() })}`;
    case 4:
      return `40/${rng.string(6)},${JSON.stringify({ hello: hello() })}`;
    case 5:
      return '41';
    case 6:
      return `42${JSON.stringify([rng.pick(SOCKET_IO_EVENT_NAMES), rng.json(2)])}`;
    case 7:
      return `42${JSON.stringify([rng.pick(['disconnect', 'connect', 'newListener', 'removeListener', 'disconnecting'])])}`;
    case 8:
      return `42${rng.int(1000)}${JSON.stringify([Events.PROOF, { mac: rng.string(10) }])}`;
    case 9:
      return `451-${JSON.stringify([Events.FRAME, { _placeholder: true, num: 0 }])}`;
    case 10:
      return `45${rng.int(5)}-${JSON.stringify([Events.FRAME, { _placeholder: true, num: rng.int(9) - 2 }])}`;
    case 11:
      return `43${rng.int(100)}${JSON.stringify(rng.json(2))}`;
    case 12:
      return rng.pick(['2', '3', '5', '6', '1', '2probe', '3probe', '4', '44"x"', '46[]', '47']);
    case 13:
      return `4${rng.string(30)}`;
    case 14:
      return `42${JSON.stringify([Events.FRAME, ...randomEventArgs().filter((a) => !Buffer.isBuffer(a))])}`;
    default:
      return Buffer.concat([Buffer.of(4), rng.bytes(rng.int(40))]);
  }
}

describe(`fuzz (seed ${SEED})`, () => {
  it.each(TARGETS)(
    '%s: key holders send 1,500 random well-formed sealed frames each; the channel survives them all',
    async (target) => {
      const FRAMES = 1500;
      await pool(2, 2, async () => {
        const { holder, variant } = await keyHolderOn(target, true);
        let id = 1;
        const expected = new Set<number>();
        for (let f = 0; f < FRAMES; f++) {
          let batch: unknown[][] = [];
          let answers: number[] = [];
          // Keep frames well under maxFrameSize: an oversized frame is a (tested) violation, not this test.
          for (let fits = false; !fits; fits = JSON.stringify(batch).length <= 2048) {
            batch = [];
            answers = [];
            for (let m = 1 + rng.int(3); m > 0; m--) {
              const { message, answered } = randomMessage(target, () => id++);
              batch.push(message);
              if (answered !== undefined) answers.push(answered);
            }
          }
          for (const a of answers) expected.add(a);
          holder.sendSealed(batch);
          sent.sealedSurvivors++;
        }
        if (target === 'mesh') {
          // Answers come in order: once this one is here, every earlier request was answered.
          const last = await holder.request(id, 'status', 'last', 10_000);
          expect(last).toEqual([Msg.RESULT, id, { status: 'ok', echo: 'last' }]);
          const answered = new Set(
            holder.received.filter((m) => m[0] === Msg.RESULT || m[0] === Msg.ERROR).map((m) => m[1] as number),
          );
          const missing = [...expected].filter((i) => !answered.has(i));
          expect({ missing: missing.slice(0, 10), seed: SEED }).toEqual({ missing: [], seed: SEED });
        } else {
          // The UNREGISTER after all of it is read: the channel survived every frame.
          holder.sendSealed([[Msg.UNREGISTER]]);
          await waitFor(() => !mesh.manager.nodes().some((n) => n.variant === variant), 10_000, why(`${variant}'s UNREGISTER`));
        }
        expect(holder.connected).toBe(true);
        expect(holder.openError).toBeUndefined();
        holder.close();
      });
    },
    20_000,
  );

  it.each(TARGETS)(
    '%s: 120 key holders each send a random bad frame (and more after it) and are dropped',
    async (target) => {
      await pool(120, 16, async () => {
        const { holder } = await keyHolderOn(target, false);
        const bad = randomBadFrame(holder);
        holder.emitFrame(...bad);
        holder.emitFrame(rng.bytes(rng.int(64)));
        holder.sendSealed([[Msg.REQUEST, 2, 'status']]);
        sent.oneShotBad += 3;
        await holder.closed(DROP_DEADLINE).catch((err: Error) => {
          throw new Error(why(`${err.message}; bad frame was ${JSON.stringify(bad).slice(0, 200)}`));
        });
        expect(holder.received.some((m) => m[0] === Msg.RESULT)).toBe(false);
      });
    },
    20_000,
  );

  it.each(TARGETS)(
    '%s: 160 socket.io clients with random auth objects and random events are all dropped',
    async (target) => {
      await pool(160, 24, async () => {
        connections[target]++;
        const auth = randomAuth();
        const socket = openSocketIo(urlOf(target), auth);
        const end = socketIoEnd(socket, DROP_DEADLINE);
        sent.socketIo++; // the CONNECT packet carrying the auth
        const events: unknown[][] = [];
        for (let e = 0; e < 6; e++) {
          const event = [rng.pick(SOCKET_IO_EVENT_NAMES), ...randomEventArgs()];
          events.push(event);
          socket.emit(...(event as [string, ...unknown[]]));
          sent.socketIo++;
        }
        await end.catch((err: Error) => {
          throw new Error(why(`${err.message}; auth ${JSON.stringify(auth)}, events ${JSON.stringify(events)}`.slice(0, 3000)));
        });
        socket.disconnect();
      });
    },
    20_000,
  );

  it.each(TARGETS)(
    '%s: 110 raw WebSockets sending random engine.io / socket.io packets are all closed',
    async (target) => {
      await pool(110, 24, async () => {
        connections[target]++;
        const peer = openRawWs(portOf(target));
        await within(peer.opened, DROP_DEADLINE, why('a raw WebSocket to open'));
        const packets: (string | Buffer)[] = [];
        for (let p = 0; p < 10; p++) {
          const packet = randomRawPacket();
          packets.push(packet);
          if (wsSend(peer.ws, packet)) sent.rawWs++;
        }
        await within(
          peer.closed,
          DROP_DEADLINE,
          why(`the server to close a raw WebSocket after ${JSON.stringify(packets.map(String)).slice(0, 300)}`),
        ).catch((err: Error) => {
          peer.ws.terminate();
          throw err;
        });
      });
    },
    20_000,
  );

  it.each(TARGETS)(
    '%s: 60 clients that prove the keys and vanish at once leak nothing',
    async (target) => {
      await pool(60, 16, async () => {
        connections[target]++;
        const initiator = new HandshakeInitiator(mesh.keys, {
          role: target === 'mesh' ? 'caller' : 'worker',
          worker: 'NodeA',
          variant: `abrupt-${++seq}`,
        });
        const socket = openSocketIo(urlOf(target), { hello: initiator.hello });
        const end = socketIoEnd(socket, DROP_DEADLINE);
        socket.once(Events.HELLO, (hello: unknown) => {
          socket.emit(Events.PROOF, initiator.onServerHello(hello).proof);
          socket.disconnect();
        });
        sent.abrupt += 2;
        await end;
      });
    },
    20_000,
  );

  it('afterwards: >= 10,000 frames sent, nothing crashed or leaked, calls still work, heap near baseline', async () => {
    legit.running = false;
    await legit.loop;
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    expect({ total: total >= 10_000, sent }).toEqual({ total: true, sent });

    // Every hostile connection is gone from both servers; only the legitimate ones remain.
    await waitFor(
      () => JSON.stringify(serverLoad(mesh)) === JSON.stringify(baselineLoad),
      5000,
      why(
        `the servers to drop every hostile connection (now ${JSON.stringify(serverLoad(mesh))}, baseline ${JSON.stringify(baselineLoad)})`,
      ),
    );

    expect(watcher.seen).toEqual([]);
    expect(legit.failed).toEqual([]);
    expect(legit.ok).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) await mesh.assertServing(`after-${i}`);
    await mesh.assertRegistrationWorks();

    // Nothing logged more than once per hostile connection, no key holder named twice, and the
    // legitimate caller saw nothing at all.
    const problems = {
      nodeB: mesh.logs.nodeB.problemsSince(marks.nodeB),
      manager: mesh.logs.manager.problemsSince(marks.manager),
    };
    expect(problems.nodeB.length).toBeLessThanOrEqual(connections.mesh);
    expect(problems.manager.length).toBeLessThanOrEqual(connections.manager);
    const all = [...problems.nodeB, ...problems.manager].map((l) => l.message);
    const twice = labels.filter((label) => all.filter((m) => m.includes(`${label}:`) || m.endsWith(label)).length > 1);
    expect(twice).toEqual([]);
    expect(mesh.logs.nodeA.problemsSince(marks.nodeA)).toEqual([]);

    // Memory: without --expose-gc, garbage counts until V8 collects it. Keep the legitimate
    // traffic going (it allocates, so V8 keeps collecting) until the heap is back within a
    // generous bound of the baseline; a real leak never gets there and fails at the deadline.
    const growth = () => process.memoryUsage().heapUsed - baselineHeap;
    await waitFor(
      async () => {
        for (let i = 0; i < 20 && growth() >= HEAP_BOUND; i++) await mesh.assertServing(`settle-${i}`);
        return growth() < HEAP_BOUND;
      },
      15_000,
      why(
        `the heap to come back within ${HEAP_BOUND / 2 ** 20} MiB of its baseline (growth when the wait began: ${Math.round(growth() / 2 ** 20)} MiB)`,
      ),
      1,
    );
    const heap = process.memoryUsage().heapUsed;
    if (process.env.FUZZ_REPORT)
      console.log(
        JSON.stringify({
          sent,
          total,
          connections,
          legitCalls: legit.ok,
          heapGrowthMiB: (heap - baselineHeap) / 2 ** 20,
          problems: { nodeB: problems.nodeB.length, manager: problems.manager.length },
        }),
      );
    expect({ growthMiB: Math.round((heap - baselineHeap) / 2 ** 20), withinBound: heap - baselineHeap < HEAP_BOUND }).toEqual({
      growthMiB: expect.any(Number),
      withinBound: true,
    });
  }, 30_000);
});
