import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { MeshError, MeshErrorCode } from '../errors.js';
import { isMeshName, MESH_NAME_RULE } from '../mesh-name.js';
import { PROCESS_ID, PROCESS_ID_PATTERN } from '../process-id.js';
import type { MeshKey, MeshKeys } from './mesh-keys.js';

/**
 * The mutual-proof handshake, run on every connection before any frame:
 *   client -> server  hello   {role, worker, variant, proc, nonce, eph, keys}        (in socket.io `auth`)
 *   server -> client  hello   {role, worker, variant, proc, nonce, eph, keys, mac}  mac = HMAC(authKey, "server" | th)
 *   client -> server  proof   {mac}                                            mac = HMAC(authKey, "client" | th)
 * `keys` names keys by their non-secret keyId: the client offers every key it holds (current
 * first), the server answers with the one it picked (its own first key the client also holds),
 * so a node in the middle of a rotation talks to nodes on either side of it in the same single
 * round trip. th hashes every field of both hellos, so each MAC proves the key AND binds names,
 * variants, roles, the offered and picked keys, both fresh nonces and both ephemeral X25519 keys. The session keys come from the
 * X25519 secret salted with HMAC(authKey, th): a passive recorder who later learns the shared
 * keys still cannot decrypt (forward secrecy), and an active attacker without the keys cannot
 * swap in its own ephemeral key without breaking a MAC.
 */

export type HandshakeRole = 'worker' | 'manager' | 'caller' | 'callee';

export interface HandshakeIdentity {
  role: HandshakeRole;
  worker: string;
  variant: string;
}

export interface HelloMessage extends HandshakeIdentity {
  v: 2;
  /** keyIds: every key the client holds, current first; in the server hello, the one it picked. */
  keys: string[];
  /** 32 random bytes, base64. */
  nonce: string;
  /** Ephemeral X25519 public key, raw 32 bytes, base64url. */
  eph: string;
  /** The sender's PROCESS_ID ('' from a sender that names none: its links then share no heartbeat). */
  proc: string;
}

export interface ServerHelloMessage extends HelloMessage {
  /** base64 HMAC-SHA256 */
  mac: string;
}

export interface ProofMessage {
  mac: string;
}

/** Per-connection, per-direction keys. */
export interface SessionKeys {
  sendKey: Buffer;
  receiveKey: Buffer;
}

export const PROTOCOL_VERSION = 2;
const MAX_FIELD = 256;
/** As many as a node may hold (MAX_PRIVATE_KEYS); more is not a node of this version. */
const MAX_OFFERED_KEYS = 4;
const KEY_ID = /^[0-9a-f]{8,64}$/;

function authFailed(message: string): MeshError {
  return new MeshError(MeshErrorCode.AUTH_FAILED, message);
}

/** Checks the shape of an untrusted hello; throws MESH_AUTH_FAILED naming what is wrong. */
export function parseHello(input: unknown, expectMac: boolean): HelloMessage & { mac?: string } {
  if (typeof input !== 'object' || input === null) throw authFailed('handshake: hello is not an object');
  const h = input as Record<string, unknown>;
  if (h.v !== PROTOCOL_VERSION) throw authFailed(`handshake: unsupported protocol version ${String(h.v)}`);
  for (const field of ['role', 'worker', 'variant', 'nonce', 'eph'] as const) {
    const value = h[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD) {
      throw authFailed(`handshake: field '${field}' missing or invalid`);
    }
  }
  // Names reach the other side's registry and logs: only the mesh charset passes.
  for (const field of ['worker', 'variant'] as const) {
    if (!isMeshName(h[field])) throw authFailed(`handshake: field '${field}' is not a name (${MESH_NAME_RULE})`);
  }
  if (!['worker', 'manager', 'caller', 'callee'].includes(h.role as string)) throw authFailed('handshake: unknown role');
  if (h.proc !== undefined && (typeof h.proc !== 'string' || !PROCESS_ID_PATTERN.test(h.proc))) {
    throw authFailed(`handshake: field 'proc' invalid`);
  }
  if (expectMac && (typeof h.mac !== 'string' || h.mac.length > MAX_FIELD)) throw authFailed('handshake: mac missing');
  const keys = h.keys;
  const most = expectMac ? 1 : MAX_OFFERED_KEYS;
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    keys.length > most ||
    !keys.every((id) => typeof id === 'string' && KEY_ID.test(id))
  ) {
    throw authFailed(`handshake: field 'keys' missing or invalid`);
  }
  return {
    v: 2,
    keys: [...(keys as string[])],
    role: h.role as HandshakeRole,
    worker: h.worker as string,
    variant: h.variant as string,
    nonce: h.nonce as string,
    eph: h.eph as string,
    proc: (h.proc as string | undefined) ?? '',
    mac: expectMac ? (h.mac as string) : undefined,
  };
}

function lengthPrefixed(parts: string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    chunks.push(len, bytes);
  }
  return Buffer.concat(chunks);
}

/** Transcript hash over both hellos, in client-then-server order, unambiguous by length prefixes. */
export function transcriptHash(client: HelloMessage, server: HelloMessage): Buffer {
  // keyIds are hex, so ',' joins them unambiguously.
  const fields = (h: HelloMessage) => [h.role, h.worker, h.variant, h.proc, h.nonce, h.eph, h.keys.join(',')];
  return createHash('sha256')
    .update(lengthPrefixed(['socket-mesh/v2/handshake', ...fields(client), ...fields(server)]))
    .digest();
}

export function proofMac(keys: MeshKey, side: 'client' | 'server', th: Buffer): Buffer {
  return createHmac('sha256', keys.authKey).update(side).update(th).digest();
}

function macMatches(expected: Buffer, received: string): boolean {
  const got = Buffer.from(received, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function deriveSessionKeys(keys: MeshKey, shared: Buffer, th: Buffer, side: 'client' | 'server'): SessionKeys {
  const salt = createHmac('sha256', keys.authKey).update('session').update(th).digest();
  const okm = Buffer.from(hkdfSync('sha256', shared, salt, 'socket-mesh/v2/session', 64));
  const clientToServer = okm.subarray(0, 32);
  const serverToClient = okm.subarray(32, 64);
  return side === 'client'
    ? { sendKey: clientToServer, receiveKey: serverToClient }
    : { sendKey: serverToClient, receiveKey: clientToServer };
}

class Ephemeral {
  private readonly privateKey: KeyObject;
  readonly publicRaw: string;

  constructor() {
    // Encoded by the key-generation job itself, then imported as a key object of its own: on
    // Node 20, exporting a generated key as JWK afterwards holds the key's mutex while it
    // allocates, and a GC there that collects the spent generation job (whose destructor takes
    // the same mutex) deadlocks the thread (seen in a test run: main thread parked on a futex in
    // ExportJWKEdKey -> GC -> ~KeyGenJob; a loop of generate + export reproduces it). JWK, not
    // DER: OpenSSL's PKCS#8 decoder took ~400 µs per key, a raw JWK import a few.
    // (@types/node types this overload as key objects; with format 'jwk' both come back as JWKs.)
    const pair = generateKeyPairSync('x25519', {
      publicKeyEncoding: { format: 'jwk' },
      privateKeyEncoding: { format: 'jwk' },
    } as object) as unknown as { publicKey: JsonWebKey; privateKey: JsonWebKey };
    this.privateKey = createPrivateKey({ key: pair.privateKey, format: 'jwk' });
    this.publicRaw = pair.publicKey.x as string;
  }

  agree(peerRaw: string): Buffer {
    let peer: KeyObject;
    try {
      peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerRaw }, format: 'jwk' });
    } catch {
      throw authFailed('handshake: peer ephemeral key is not a valid X25519 key');
    }
    try {
      return diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    } catch {
      // A low-order point gives an all-zero secret, which node refuses: treat as hostile.
      throw authFailed('handshake: key agreement failed');
    }
  }
}

/** The side that dials. Create one per connection attempt: nonces and ephemeral keys are single-use. */
export class HandshakeInitiator {
  private readonly ephemeral = new Ephemeral();
  readonly hello: HelloMessage;

  constructor(
    private readonly keys: MeshKeys,
    identity: HandshakeIdentity,
  ) {
    this.hello = {
      v: 2,
      ...identity,
      nonce: randomBytes(32).toString('base64'),
      eph: this.ephemeral.publicRaw,
      proc: PROCESS_ID,
      keys: keys.ring.map((k) => k.keyId),
    };
  }

  /** Verifies the server's proof; returns our proof and the session keys. Throws MESH_AUTH_FAILED. */
  onServerHello(input: unknown): {
    proof: ProofMessage;
    session: SessionKeys;
    peer: HandshakeIdentity;
    keyId: string;
    /** The server's PROCESS_ID, proven by its MAC ('' when it named none). */
    proc: string;
  } {
    const server = parseHello(input, true);
    const key = this.keys.ring.find((k) => k.keyId === server.keys[0]);
    const th = transcriptHash(this.hello, server);
    if (!key || !macMatches(proofMac(key, 'server', th), server.mac as string)) {
      throw authFailed('handshake: the other side could not prove the shared keys (publicKey/privateKey differ)');
    }
    const shared = this.ephemeral.agree(server.eph);
    return {
      proof: { mac: proofMac(key, 'client', th).toString('base64') },
      session: deriveSessionKeys(key, shared, th, 'client'),
      peer: { role: server.role, worker: server.worker, variant: server.variant },
      keyId: key.keyId,
      proc: server.proc,
    };
  }
}

/** The side that accepts. */
export class HandshakeResponder {
  private readonly ephemeral = new Ephemeral();
  private readonly th: Buffer;
  private readonly shared: Buffer;
  private readonly key: MeshKey;
  readonly client: HelloMessage;
  readonly hello: ServerHelloMessage;

  /** Throws MESH_AUTH_FAILED when the client hello is malformed or offers no key this side holds. */
  constructor(keys: MeshKeys, identity: HandshakeIdentity, clientHello: unknown) {
    this.client = parseHello(clientHello, false);
    // Our order, not the client's: the current key wins as soon as both sides hold it.
    const key = keys.ring.find((k) => this.client.keys.includes(k.keyId));
    if (!key) {
      throw authFailed(
        `handshake: no key in common, the two sides hold other keys (publicKey/privateKey differ; the other side offered key ${this.client.keys.join(', ')}; this side holds ${keys.ring.map((k) => k.keyId).join(', ')})`,
      );
    }
    this.key = key;
    const server: HelloMessage = {
      v: 2,
      ...identity,
      nonce: randomBytes(32).toString('base64'),
      eph: this.ephemeral.publicRaw,
      proc: PROCESS_ID,
      keys: [key.keyId],
    };
    this.th = transcriptHash(this.client, server);
    this.shared = this.ephemeral.agree(this.client.eph);
    this.hello = { ...server, mac: proofMac(key, 'server', this.th).toString('base64') };
  }

  /** The keyId both sides use on this connection. */
  get keyId(): string {
    return this.key.keyId;
  }

  /** Verifies the client's proof; returns the session keys. Throws MESH_AUTH_FAILED. */
  onProof(input: unknown): SessionKeys {
    const mac = typeof input === 'object' && input !== null ? (input as Record<string, unknown>).mac : undefined;
    if (typeof mac !== 'string' || !macMatches(proofMac(this.key, 'client', this.th), mac)) {
      throw authFailed(`handshake: '${this.client.worker}' could not prove the shared keys (publicKey/privateKey differ)`);
    }
    return deriveSessionKeys(this.key, this.shared, this.th, 'server');
  }
}
