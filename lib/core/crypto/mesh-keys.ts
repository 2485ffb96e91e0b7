import { createHash, createHmac, hkdfSync, scrypt, scryptSync } from 'node:crypto';
import { MeshError, MeshErrorCode } from '../errors.js';

/**
 * The long-lived secrets every node derives from the shared key strings, once at start.
 * `publicKey` names the mesh (salt: two meshes with the same secret still get different keys);
 * `privateKey` is the secret itself. A node may hold several private keys (current first) so a
 * mesh can roll to a new key without a partition: the handshake picks one both sides hold.
 */
export interface MeshKey {
  /** 32 bytes; only ever used as an HMAC / HKDF key, never to encrypt directly. */
  readonly authKey: Buffer;
  /** A short, non-secret fingerprint: names the key in the handshake and in logs, never reveals it. */
  readonly keyId: string;
}

export interface MeshKeys extends MeshKey {
  /** Every key this node accepts, the current one (the one `authKey`/`keyId` name) first. */
  readonly ring: readonly MeshKey[];
}

/** What the options take: one key, or a list for a rotation (current first). */
export type PrivateKeyOption = string | readonly string[];

/** Shorter keys are refused: an attacker who records one handshake can test guesses offline. */
export const MIN_PRIVATE_KEY_LENGTH = 32;
/** A rotation needs two (new, old); a few more leave room, more is a mistake. */
export const MAX_PRIVATE_KEYS = 4;
/** Longer is no stronger, and bounds the work done on a configuration value. */
const MAX_PRIVATE_KEY_LENGTH = 1024;

/**
 * scrypt cost: 2^14 × 8 × 128 B = 16 MiB, the "interactive" profile of the scrypt paper and of
 * libsodium, about 40-90 ms of one core per key, paid once per process (cached): every offline
 * guess of a key costs the same, against about 1 µs for HKDF alone. It is on the critical path
 * of a node's start (the handshake needs the keys), where 2^15 alone took 169 ms of the 150 ms
 * start-up budget (bench/README.md, "Start-up"). OWASP's minimum for scrypt is N=2^17 with r=8
 * for passwords; a privateKey of at least 32 characters is not a password, so the stretch is a
 * second line, not the first: a random key (`socket-mesh keygen`) is the first.
 */
export const SCRYPT_PARAMS = { N: 2 ** 14, r: 8, p: 1, maxmem: 32 * 1024 * 1024 } as const;

const AUTH_INFO = 'socket-mesh/v2/auth';
const SCRYPT_SALT = 'socket-mesh/v2/scrypt:';

function schemaInvalid(message: string): MeshError {
  return new MeshError(MeshErrorCode.SCHEMA_INVALID, message);
}

/**
 * Checks a `privateKey` option without ever putting its value (or a number given instead) in
 * the message. Throws MESH_SCHEMA_INVALID naming the option; `where` prefixes the message.
 */
export function checkPrivateKeyOption(value: unknown, where = 'socket-mesh'): PrivateKeyOption {
  const how = `a string of at least ${MIN_PRIVATE_KEY_LENGTH} characters (or a list of them, current first)`;
  if (value === undefined || value === null) throw schemaInvalid(`${where}: option 'privateKey' is required (${how})`);
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (!list) throw schemaInvalid(`${where}: option 'privateKey' must be ${how}, got a ${typeof value} (value not shown)`);
  if (list.length === 0 || list.length > MAX_PRIVATE_KEYS) {
    throw schemaInvalid(`${where}: option 'privateKey' must list 1 to ${MAX_PRIVATE_KEYS} keys, got ${list.length}`);
  }
  const seen = new Set<string>();
  list.forEach((key, i) => {
    const field = Array.isArray(value) ? `privateKey[${i}]` : 'privateKey';
    if (typeof key !== 'string')
      throw schemaInvalid(
        `${where}: option '${field}' must be ${how}, got a ${key === null ? 'null' : typeof key} (value not shown)`,
      );
    if (key.length < MIN_PRIVATE_KEY_LENGTH) {
      throw schemaInvalid(
        `${where}: option '${field}' is too short: at least ${MIN_PRIVATE_KEY_LENGTH} characters (make one with \`npx socket-mesh keygen\`)`,
      );
    }
    if (key.length > MAX_PRIVATE_KEY_LENGTH)
      throw schemaInvalid(`${where}: option '${field}' is longer than ${MAX_PRIVATE_KEY_LENGTH} characters`);
    if (seen.has(key)) throw schemaInvalid(`${where}: option '${field}' repeats an earlier key of the list`);
    seen.add(key);
  });
  return value as PrivateKeyOption;
}

/** Keyed by a hash of both strings, so the cache holds no copy of the secret. */
const cache = new Map<string, MeshKey>();

function cacheKey(publicKey: string, privateKey: string): string {
  const pub = Buffer.from(publicKey, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(pub.length);
  return createHash('sha256').update(len).update(pub).update(privateKey, 'utf8').digest('base64');
}

function scryptArgs(publicKey: string, privateKey: string): [Buffer, Buffer] {
  return [Buffer.from(privateKey, 'utf8'), Buffer.from(SCRYPT_SALT + publicKey, 'utf8')];
}

/** HKDF of the stretched secret; wipes `stretched`. */
function finishKey(id: string, publicKey: string, stretched: Buffer): MeshKey {
  const authKey = Buffer.from(hkdfSync('sha256', stretched, Buffer.from(publicKey, 'utf8'), AUTH_INFO, 32));
  stretched.fill(0);
  const keyId = createHmac('sha256', authKey).update('socket-mesh/v2/key-id').digest('hex').slice(0, 12);
  const key: MeshKey = { authKey, keyId };
  cache.set(id, key);
  return key;
}

/** scrypt(privateKey, salt = publicKey) then HKDF: once per (publicKey, privateKey) per process. */
export function deriveMeshKey(publicKey: string, privateKey: string): MeshKey {
  const id = cacheKey(publicKey, privateKey);
  const known = cache.get(id);
  if (known) return known;
  return finishKey(id, publicKey, scryptSync(...scryptArgs(publicKey, privateKey), 32, SCRYPT_PARAMS));
}

/** Derivations running on the thread pool, so two nodes of one process with the same key share one. */
const running = new Map<string, Promise<MeshKey>>();

/** Same as deriveMeshKey, with scrypt on libuv's thread pool: the main thread goes on meanwhile. */
export function deriveMeshKeyAsync(publicKey: string, privateKey: string): Promise<MeshKey> {
  const id = cacheKey(publicKey, privateKey);
  const known = cache.get(id);
  if (known) return Promise.resolve(known);
  let derivation = running.get(id);
  if (!derivation) {
    derivation = new Promise<MeshKey>((resolve, reject) => {
      scrypt(...scryptArgs(publicKey, privateKey), 32, SCRYPT_PARAMS, (err, stretched) => {
        running.delete(id);
        if (err) reject(err);
        else resolve(finishKey(id, publicKey, stretched));
      });
    });
    running.set(id, derivation);
  }
  return derivation;
}

/**
 * Starts deriving the keys of valid options on the thread pool ahead of their node (the Nest
 * module does it when its options are injected, well before the node starts at bootstrap): the
 * node's DeferredMeshKeys then finds the derivation running or done. Invalid options are left
 * for the node to report.
 */
export function prefetchMeshKeys(publicKey: unknown, privateKey: unknown): void {
  let checked: { publicKey: string; privateKeys: readonly string[] };
  try {
    checked = checkKeyOptions(publicKey, privateKey);
  } catch {
    return;
  }
  for (const key of checked.privateKeys) deriveMeshKeyAsync(checked.publicKey, key).catch(() => undefined);
}

/** Checks both options (MESH_SCHEMA_INVALID naming the option, never its value); returns the private keys, current first. */
function checkKeyOptions(publicKey: unknown, privateKey: unknown): { publicKey: string; privateKeys: readonly string[] } {
  if (typeof publicKey !== 'string' || publicKey.length === 0) {
    throw schemaInvalid("socket-mesh: option 'publicKey' must be a non-empty string shared by every node of the mesh");
  }
  const checked = checkPrivateKeyOption(privateKey);
  return { publicKey, privateKeys: typeof checked === 'string' ? [checked] : checked };
}

function ringOf(ring: MeshKey[]): MeshKeys {
  return { authKey: ring[0]!.authKey, keyId: ring[0]!.keyId, ring };
}

/** Derives every key of the option (current first). Throws MESH_SCHEMA_INVALID on a bad option. */
export function deriveMeshKeys(publicKey: unknown, privateKey: unknown): MeshKeys {
  const checked = checkKeyOptions(publicKey, privateKey);
  return ringOf(checked.privateKeys.map((key) => deriveMeshKey(checked.publicKey, key)));
}

/**
 * A node's keys while scrypt runs on the thread pool (about 40-200 ms of one core, which
 * would otherwise block the constructor while socket.io could be loading). The options are
 * checked at once, so a bad key still fails the constructor; the keys may be read only once
 * `ready` resolved: a node awaits it before it listens or dials.
 */
export class DeferredMeshKeys implements MeshKeys {
  readonly ready: Promise<void>;
  #keys: MeshKeys | undefined;

  /** Throws MESH_SCHEMA_INVALID on a bad option, synchronously. */
  constructor(publicKey: unknown, privateKey: unknown) {
    const checked = checkKeyOptions(publicKey, privateKey);
    this.ready = Promise.all(checked.privateKeys.map((key) => deriveMeshKeyAsync(checked.publicKey, key))).then((ring) => {
      this.#keys = ringOf(ring);
    });
    // Awaited by start(); a node that is never started must not leave an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  get authKey(): Buffer {
    return this.derived().authKey;
  }

  get keyId(): string {
    return this.derived().keyId;
  }

  get ring(): readonly MeshKey[] {
    return this.derived().ring;
  }

  private derived(): MeshKeys {
    if (!this.#keys) throw new Error('socket-mesh: the mesh keys are still being derived (await start() first)');
    return this.#keys;
  }
}
