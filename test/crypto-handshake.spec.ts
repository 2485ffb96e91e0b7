import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { FrameOpener, FrameSealer } from '../lib/core/crypto/frame-cipher.js';
import {
  HandshakeInitiator,
  HandshakeResponder,
  deriveSessionKeys,
  parseHello,
  proofMac,
  transcriptHash,
  type HandshakeIdentity,
  type ServerHelloMessage,
} from '../lib/core/crypto/handshake.js';
import { deriveMeshKeys, type MeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../lib/core/errors.js';
import { PROCESS_ID } from '../lib/core/process-id.js';

const SECRET = 'mesh-secret-0123456789-abcdefghijklmnop';
const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmn';
const KEYS = deriveMeshKeys('mesh-public', SECRET);
const CLIENT: HandshakeIdentity = { role: 'caller', worker: 'NodeA', variant: 'a-1' };
const SERVER: HandshakeIdentity = { role: 'callee', worker: 'NodeB', variant: 'b-1' };

function expectAuthFailed(fn: () => unknown, message?: RegExp): MeshError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MeshError);
  const err = caught as MeshError;
  expect(err.code).toBe(MeshErrorCode.AUTH_FAILED);
  if (message) expect(err.message).toMatch(message);
  return err;
}

function fullRun(clientKeys: MeshKeys = KEYS, serverKeys: MeshKeys = KEYS) {
  const initiator = new HandshakeInitiator(clientKeys, CLIENT);
  const responder = new HandshakeResponder(serverKeys, SERVER, JSON.parse(JSON.stringify(initiator.hello)));
  const clientSide = initiator.onServerHello(JSON.parse(JSON.stringify(responder.hello)));
  const serverSession = responder.onProof(JSON.parse(JSON.stringify(clientSide.proof)));
  return { initiator, responder, clientSide, serverSession };
}

/** A valid X25519 public key other than the ones in play, in the wire format (raw, base64url). */
function otherEph(): string {
  return generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x as string;
}

function validHello(): Record<string, unknown> {
  return {
    v: 2,
    role: 'worker',
    worker: 'NodeA',
    variant: 'a-1',
    nonce: randomBytes(32).toString('base64'),
    eph: otherEph(),
    keys: [KEYS.keyId],
  };
}

describe('handshake: successful run', () => {
  it('gives both sides matching, per-direction session keys', () => {
    const { clientSide, serverSession } = fullRun();
    expect(clientSide.session.sendKey).toHaveLength(32);
    expect(clientSide.session.receiveKey).toHaveLength(32);
    expect(clientSide.session.sendKey.equals(serverSession.receiveKey)).toBe(true);
    expect(clientSide.session.receiveKey.equals(serverSession.sendKey)).toBe(true);
    expect(clientSide.session.sendKey.equals(clientSide.session.receiveKey)).toBe(false);
  });

  it('reports the identities each side claimed', () => {
    const { responder, clientSide } = fullRun();
    expect(clientSide.peer).toEqual(SERVER);
    expect(responder.client).toMatchObject({ v: 2, ...CLIENT, keys: [KEYS.keyId] });
  });

  it("names each side's process (PROCESS_ID), bound by the MACs", () => {
    const { responder, clientSide } = fullRun();
    expect(clientSide.proc).toBe(PROCESS_ID);
    expect(responder.client.proc).toBe(PROCESS_ID);
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const server = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    // Another process id put in by someone on the path breaks the server's proof.
    const forged = { ...server.hello, proc: 'ffffffffffffffff' };
    expectAuthFailed(() => initiator.onServerHello(forged), /could not prove/);
  });

  it('refuses a malformed process id', () => {
    expectAuthFailed(() => new HandshakeResponder(KEYS, SERVER, { ...validHello(), proc: 'not-hex' }), /field 'proc'/);
    // A hello that names no process is accepted: its links just share no heartbeat.
    expect(new HandshakeResponder(KEYS, SERVER, validHello()).client.proc).toBe('');
  });

  it('the session keys actually carry frames both ways', () => {
    const { clientSide, serverSession } = fullRun();
    const up = new FrameSealer(clientSide.session.sendKey).seal(Buffer.from('ping'));
    expect(new FrameOpener(serverSession.receiveKey).open(up).toString()).toBe('ping');
    const down = new FrameSealer(serverSession.sendKey).seal(Buffer.from('pong'));
    expect(new FrameOpener(clientSide.session.receiveKey).open(down).toString()).toBe('pong');
  });

  it('gives fresh nonces, ephemerals and session keys on every run', () => {
    const runs = Array.from({ length: 5 }, () => fullRun());
    const distinct = (values: string[]) => new Set(values).size;
    expect(distinct(runs.map((r) => r.initiator.hello.nonce))).toBe(5);
    expect(distinct(runs.map((r) => r.initiator.hello.eph))).toBe(5);
    expect(distinct(runs.map((r) => r.responder.hello.nonce))).toBe(5);
    expect(distinct(runs.map((r) => r.responder.hello.eph))).toBe(5);
    expect(distinct(runs.map((r) => r.clientSide.session.sendKey.toString('hex')))).toBe(5);
    expect(distinct(runs.map((r) => r.serverSession.sendKey.toString('hex')))).toBe(5);
  });

  it('puts no key material in the hello messages', () => {
    const { initiator, responder } = fullRun();
    const wire = JSON.stringify([initiator.hello, responder.hello]);
    expect(wire).not.toContain(SECRET);
    expect(wire).not.toContain(KEYS.authKey.toString('base64'));
    expect(wire).not.toContain(KEYS.authKey.toString('hex'));
  });
});

describe('handshake: wrong keys', () => {
  it('the client rejects the server proof when the server has another privateKey', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const other = deriveMeshKeys('mesh-public', OTHER_SECRET);
    // A hostile server that claims to have picked the client's key, but proves with its own.
    const responder = new HandshakeResponder(other, SERVER, { ...initiator.hello, keys: [other.keyId] });
    expectAuthFailed(() => initiator.onServerHello({ ...responder.hello, keys: [KEYS.keyId] }), /could not prove/);
    expectAuthFailed(() => initiator.onServerHello(responder.hello), /could not prove/);
  });

  it('the server refuses at once a client that offers no key it holds, naming key ids only', () => {
    const initiator = new HandshakeInitiator(deriveMeshKeys('mesh-public', OTHER_SECRET), CLIENT);
    const err = expectAuthFailed(() => new HandshakeResponder(KEYS, SERVER, initiator.hello), /no key in common/);
    expect(err.message).toContain(KEYS.keyId);
    expect(err.message).not.toContain(SECRET);
  });

  it('the client rejects the server proof when the server has another publicKey', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const other = deriveMeshKeys('other-public', SECRET);
    const responder = new HandshakeResponder(other, SERVER, { ...initiator.hello, keys: [other.keyId] });
    expectAuthFailed(() => initiator.onServerHello({ ...responder.hello, keys: [KEYS.keyId] }));
  });

  it('the server rejects the client proof when the client has other keys', () => {
    const wrong = deriveMeshKeys('mesh-public', OTHER_SECRET);
    const initiator = new HandshakeInitiator(wrong, CLIENT);
    // It claims the server's key id without holding the key.
    const hello = { ...initiator.hello, keys: [KEYS.keyId] };
    const responder = new HandshakeResponder(KEYS, SERVER, hello);
    // A hostile client skips verifying the server and answers with a proof under its own keys.
    const th = transcriptHash(hello, responder.hello);
    const mac = proofMac(wrong, 'client', th).toString('base64');
    expectAuthFailed(() => responder.onProof({ mac }), /'NodeA' could not prove/);
  });

  it('the server rejects its own proof reflected back as the client proof', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    expectAuthFailed(() => responder.onProof({ mac: responder.hello.mac }));
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'mac'],
    ['an empty object', {}],
    ['a numeric mac', { mac: 42 }],
    ['an empty mac', { mac: '' }],
    ['a short mac', { mac: Buffer.alloc(16).toString('base64') }],
    ['a random 32-byte mac', { mac: randomBytes(32).toString('base64') }],
  ])('the server rejects a proof that is %s', (_label, proof) => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    expectAuthFailed(() => responder.onProof(proof));
  });
});

describe('handshake: transcript binding', () => {
  const tamper: Array<[string, (h: ServerHelloMessage) => void]> = [
    ['worker', (h) => void (h.worker = 'NodeEvil')],
    ['variant', (h) => void (h.variant = 'b-2')],
    ['role', (h) => void (h.role = 'manager')],
    ['nonce', (h) => void (h.nonce = randomBytes(32).toString('base64'))],
    ['eph', (h) => void (h.eph = otherEph())],
    ['keys', (h) => void (h.keys = [KEYS.keyId.replace(/^./, (c) => (c === '0' ? '1' : '0'))])],
  ];

  it.each(tamper)('the client rejects a server hello whose %s was changed in transit', (_field, change) => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    const hello = { ...responder.hello };
    change(hello);
    expectAuthFailed(() => initiator.onServerHello(hello), /could not prove/);
    // The untouched hello is still accepted, so the change alone caused the failure.
    expect(() => initiator.onServerHello(responder.hello)).not.toThrow();
  });

  it('the server proof does not verify when the client hello was changed in transit', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, { ...initiator.hello, worker: 'NodeEvil' });
    expectAuthFailed(() => initiator.onServerHello(responder.hello));
  });

  it('a client hello with a substituted ephemeral key cannot complete: the real client rejects the server hello', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, { ...initiator.hello, eph: otherEph() });
    expectAuthFailed(() => initiator.onServerHello(responder.hello));
  });

  it('the server proof does not verify when the offered key list was cut down in transit (no silent downgrade)', () => {
    const rotating = deriveMeshKeys('mesh-public', [SECRET, OTHER_SECRET]);
    const initiator = new HandshakeInitiator(rotating, CLIENT);
    const responder = new HandshakeResponder(rotating, SERVER, { ...initiator.hello, keys: [rotating.ring[1]!.keyId] });
    expectAuthFailed(() => initiator.onServerHello(responder.hello), /could not prove/);
  });

  it('transcriptHash is unambiguous about field boundaries', () => {
    const base = { v: 2 as const, role: 'worker' as const, nonce: 'n', eph: 'e', proc: '', keys: ['abcdef012345'] };
    const a = transcriptHash({ ...base, worker: 'ab', variant: 'c' }, { ...base, worker: 'x', variant: 'y' });
    const b = transcriptHash({ ...base, worker: 'a', variant: 'bc' }, { ...base, worker: 'x', variant: 'y' });
    expect(a.equals(b)).toBe(false);
  });

  it('transcriptHash depends on which hello is the client and which the server', () => {
    const c = { v: 2 as const, ...CLIENT, nonce: 'n1', eph: 'e1', proc: '', keys: ['abcdef012345'] };
    const s = { v: 2 as const, ...SERVER, nonce: 'n2', eph: 'e2', proc: '', keys: ['abcdef012345'] };
    expect(transcriptHash(c, s).equals(transcriptHash(s, c))).toBe(false);
  });

  it('proofMac is domain-separated by side', () => {
    const th = randomBytes(32);
    expect(proofMac(KEYS, 'client', th).equals(proofMac(KEYS, 'server', th))).toBe(false);
  });

  it('deriveSessionKeys mirrors the two sides and depends on the transcript', () => {
    const shared = randomBytes(32);
    const th = randomBytes(32);
    const c = deriveSessionKeys(KEYS, shared, th, 'client');
    const s = deriveSessionKeys(KEYS, shared, th, 'server');
    expect(c.sendKey.equals(s.receiveKey)).toBe(true);
    expect(c.receiveKey.equals(s.sendKey)).toBe(true);
    expect(c.sendKey.equals(c.receiveKey)).toBe(false);
    const other = deriveSessionKeys(KEYS, shared, randomBytes(32), 'client');
    expect(other.sendKey.equals(c.sendKey)).toBe(false);
    const otherKeys = deriveSessionKeys(deriveMeshKeys('mesh-public', OTHER_SECRET), shared, th, 'client');
    expect(otherKeys.sendKey.equals(c.sendKey)).toBe(false);
  });
});

describe('handshake: key rotation', () => {
  const OLD = deriveMeshKeys('mesh-public', OTHER_SECRET);
  const NEW = KEYS;
  const BOTH = deriveMeshKeys('mesh-public', [SECRET, OTHER_SECRET]);

  it.each([
    ['[new, old] dials [old]', BOTH, OLD, OLD.keyId],
    ['[old] dials [new, old]', OLD, BOTH, OLD.keyId],
    ['[new, old] dials [new]', BOTH, NEW, NEW.keyId],
    ['[new] dials [new, old]', NEW, BOTH, NEW.keyId],
    ['[new, old] dials [new, old]: the current key wins', BOTH, BOTH, NEW.keyId],
    [
      "[old, new] dials [new, old]: the accepting side's order wins",
      deriveMeshKeys('mesh-public', [OTHER_SECRET, SECRET]),
      BOTH,
      NEW.keyId,
    ],
  ])('%s: one round trip, both sides on the common key', (_label, client, server, used) => {
    const { responder, clientSide, serverSession } = fullRun(client, server);
    expect(responder.keyId).toBe(used);
    expect(clientSide.keyId).toBe(used);
    expect(clientSide.session.sendKey.equals(serverSession.receiveKey)).toBe(true);
  });

  it('[old] and [new] have no key in common', () => {
    const initiator = new HandshakeInitiator(OLD, CLIENT);
    expectAuthFailed(() => new HandshakeResponder(NEW, SERVER, initiator.hello), /no key in common/);
  });

  it('the client offers every key it holds, current first', () => {
    expect(new HandshakeInitiator(BOTH, CLIENT).hello.keys).toEqual([NEW.keyId, OLD.keyId]);
  });
});

describe('handshake: replay', () => {
  it('an old server hello replayed to a new initiator fails', () => {
    const old = fullRun();
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    expectAuthFailed(() => initiator.onServerHello(old.responder.hello));
  });

  it('a client proof from another session is rejected by a new responder', () => {
    const old = fullRun();
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    expectAuthFailed(() => responder.onProof(old.clientSide.proof));
  });

  it('replaying a whole recorded client side (hello + proof) to a new responder fails', () => {
    const old = fullRun();
    const responder = new HandshakeResponder(KEYS, SERVER, old.initiator.hello);
    expectAuthFailed(() => responder.onProof(old.clientSide.proof));
  });
});

describe('handshake: malformed hellos', () => {
  const cases: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'hello'],
    ['a number', 1],
    ['an array', [1, 'worker']],
    ['without version', (({ v: _v, ...rest }) => rest)(validHello())],
    ['version 1 (0.1.x)', { ...validHello(), v: 1 }],
    ['version "2" as a string', { ...validHello(), v: '2' }],
    ['without keys', (({ keys: _k, ...rest }) => rest)(validHello())],
    ['with an empty key list', { ...validHello(), keys: [] }],
    ['with keys not a list', { ...validHello(), keys: 'abcdef012345' }],
    ['with a non-hex key id', { ...validHello(), keys: ['zzzzzzzzzzzz'] }],
    ['with a too long key id', { ...validHello(), keys: ['a'.repeat(65)] }],
    ['with five key ids', { ...validHello(), keys: ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(12)) }],
    ...(['role', 'worker', 'variant', 'nonce', 'eph'] as const).flatMap((field): Array<[string, unknown]> => [
      [
        `without ${field}`,
        (() => {
          const h = validHello();
          delete h[field];
          return h;
        })(),
      ],
      [`with an empty ${field}`, { ...validHello(), [field]: '' }],
      [`with a numeric ${field}`, { ...validHello(), [field]: 7 }],
      [`with a too long ${field}`, { ...validHello(), [field]: 'x'.repeat(257) }],
    ]),
    ['with a worker name of 129 characters', { ...validHello(), worker: 'x'.repeat(129) }],
    [
      'with a line break in the worker name (log injection)',
      { ...validHello(), worker: 'NodeA\n[socket-mesh] INFO forged line' },
    ],
    ['with a space in the variant', { ...validHello(), variant: 'a 1' }],
    ['with a slash in the variant', { ...validHello(), variant: '../etc' }],
    ['with markup in the worker name', { ...validHello(), worker: '<script>' }],
    ['with a non-ASCII worker name', { ...validHello(), worker: 'NødeA' }],
    ['with an ANSI escape in the variant', { ...validHello(), variant: '\u001b[31mred' }],
    ['with an unknown role', { ...validHello(), role: 'admin' }],
    ['with role __proto__', { ...validHello(), role: '__proto__' }],
  ];

  it.each(cases)('parseHello rejects a hello %s', (_label, input) => {
    expectAuthFailed(() => parseHello(input, false), /^handshake: /);
  });

  it.each(cases)('the responder constructor rejects a client hello %s', (_label, input) => {
    expectAuthFailed(() => new HandshakeResponder(KEYS, SERVER, input));
  });

  it('parseHello accepts a well-formed hello and drops unknown fields', () => {
    const hello = { ...validHello(), extra: 'ignored' };
    const parsed = parseHello(hello, false);
    expect(parsed).not.toHaveProperty('extra');
    expect(parsed).toMatchObject({ v: 2, role: 'worker', worker: 'NodeA', variant: 'a-1' });
    expect(parseHello({ ...validHello(), worker: 'x'.repeat(128) }, false).worker).toHaveLength(128);
    expect(parseHello({ ...validHello(), variant: 'pod-7.ns_a:2001-db8' }, false).variant).toBe('pod-7.ns_a:2001-db8');
  });

  it.each([
    ['not base64url', '!!!!'],
    ['too short', 'AAAA'],
    ['too long', Buffer.alloc(33, 1).toString('base64url')],
  ])('the responder rejects a client ephemeral key that is %s', (_label, eph) => {
    expectAuthFailed(() => new HandshakeResponder(KEYS, SERVER, { ...validHello(), eph }), /not a valid X25519 key/);
  });

  it('the responder rejects a low-order (all-zero) client ephemeral key', () => {
    const eph = Buffer.alloc(32).toString('base64url');
    expectAuthFailed(() => new HandshakeResponder(KEYS, SERVER, { ...validHello(), eph }), /key agreement failed/);
  });

  it('the initiator rejects a server hello without mac, or with an over-long mac', () => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const responder = new HandshakeResponder(KEYS, SERVER, initiator.hello);
    const { mac: _mac, ...withoutMac } = responder.hello;
    expectAuthFailed(() => initiator.onServerHello(withoutMac), /mac missing/);
    expectAuthFailed(() => initiator.onServerHello({ ...responder.hello, mac: 'A'.repeat(257) }), /mac missing/);
    expectAuthFailed(() => initiator.onServerHello({ ...responder.hello, mac: 5 }), /mac missing/);
    expectAuthFailed(() => parseHello(withoutMac, true), /mac missing/);
  });

  it.each(cases)('the initiator rejects a server hello %s', (_label, input) => {
    const initiator = new HandshakeInitiator(KEYS, CLIENT);
    const withMac = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input, mac: 'AAAA' } : input;
    expectAuthFailed(() => initiator.onServerHello(withMac));
  });
});

describe('ChaCha20-Poly1305 frames (known answer; vectors of both implementations: crypto-aead.spec.ts)', () => {
  function reference(key: Buffer, counter: bigint, plaintext: Buffer): Buffer {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(counter, 4);
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  it('seals counter 0 as createCipheriv with nonce = 4 zero bytes + 8-byte big-endian counter', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const plaintext = Buffer.from('[[1,2,"status",{"test":"x"}]]');
    const sealer = new FrameSealer(key);
    expect(sealer.seal(plaintext).toString('hex')).toBe(reference(key, 0n, plaintext).toString('hex'));
  });

  it('uses counters 1, 2, … for the following frames, and never repeats a nonce', () => {
    const key = randomBytes(32);
    const sealer = new FrameSealer(key);
    const plaintext = Buffer.from('same plaintext');
    const frames = [0n, 1n, 2n, 3n].map(() => sealer.seal(plaintext));
    frames.forEach((frame, i) => expect(frame.equals(reference(key, BigInt(i), plaintext))).toBe(true));
    expect(new Set(frames.map((f) => f.toString('hex'))).size).toBe(frames.length);
  });

  it('writes the counter as 64 bits past 2^32 (the upper half of the nonce counter is used)', () => {
    const key = randomBytes(32);
    const sealer = new FrameSealer(key);
    const opener = new FrameOpener(key);
    // Frame counts that take days to reach; set directly to check the nonce layout.
    (sealer as unknown as { counter: number }).counter = 2 ** 32 + 7;
    (opener as unknown as { counter: number }).counter = 2 ** 32 + 7;
    const plaintext = Buffer.from('far along');
    const sealed = sealer.seal(plaintext);
    expect(sealed.equals(reference(key, 2n ** 32n + 7n, plaintext))).toBe(true);
    expect(opener.open(sealed).equals(plaintext)).toBe(true);
  });

  it('keeps the same bytes across the switch to libsodium (after the first 64 frames) and for large frames', () => {
    const key = randomBytes(32);
    const sealer = new FrameSealer(key);
    for (let i = 0; i < 200; i++) {
      const plaintext = randomBytes(i % 10 === 0 ? 20_000 : i);
      expect(sealer.seal(plaintext).equals(reference(key, BigInt(i), plaintext))).toBe(true);
    }
  });
});
