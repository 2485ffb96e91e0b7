import { createHash, timingSafeEqual } from 'node:crypto';
import { MeshError, MeshErrorCode } from '../errors.js';

/** Protects the manager's data routes (registry, topology, events) with a bearer token. */
export interface ManagerHttpAuth {
  /** Requests must send `Authorization: Bearer <token>`. At least 16 characters. */
  token: string;
}

const MIN_TOKEN = 16;

/** Checks the `httpAuth` option; throws MESH_SCHEMA_INVALID naming the field. */
export function validateHttpAuth(value: unknown, where = 'Manager'): ManagerHttpAuth | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MeshError(MeshErrorCode.SCHEMA_INVALID, `${where}: 'httpAuth' must be { token }`);
  }
  const token = (value as { token?: unknown }).token;
  if (typeof token !== 'string' || token.length < MIN_TOKEN) {
    throw new MeshError(
      MeshErrorCode.SCHEMA_INVALID,
      `${where}: 'httpAuth.token' must be a string of at least ${MIN_TOKEN} characters`,
    );
  }
  return { token };
}

// Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent.
const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when no token is configured, or the `Authorization` header carries it. */
export function isAuthorized(auth: ManagerHttpAuth | undefined, authorization: string | undefined): boolean {
  if (!auth) return true;
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!.trim()), digest(auth.token));
}
