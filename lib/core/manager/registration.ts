import type { CommandTable } from '../command-spec.js';
import { MeshError, MeshErrorCode } from '../errors.js';
import { isMeshName, MESH_NAME_RULE } from '../mesh-name.js';
import type { Registration } from '../protocol.js';
import { normalizeCommandSpec, suggestName, validateRights, type NormalizedWorker } from '../schema.js';

const MAX_NAME = 256;
/** Commands in one registration, at most. */
export const MAX_COMMANDS = 1024;
/** A host as a worker advertises it: a DNS name or an IP literal, nothing that could break a log line. */
const HOST_PATTERN = /^[A-Za-z0-9._:%[\]-]{1,253}$/;

function badRegistration(why: string): MeshError {
  return new MeshError(MeshErrorCode.SCHEMA_INVALID, `invalid registration: ${why}`);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME;
}

/**
 * Registrations come from the network: check every field before it reaches the registry.
 * Command specs go through the same normaliser as schemas and decorators, so the manager holds
 * a remote worker to the rules a local one is held to.
 */
export function parseRegistration(input: unknown): Registration {
  if (typeof input !== 'object' || input === null) throw badRegistration('not an object');
  const r = input as Record<string, unknown>;
  if (!isMeshName(r.worker)) throw badRegistration(`worker (${MESH_NAME_RULE})`);
  if (!isMeshName(r.variant)) throw badRegistration(`variant (${MESH_NAME_RULE})`);
  if (r.host !== null && (typeof r.host !== 'string' || !HOST_PATTERN.test(r.host))) throw badRegistration('host');
  if (typeof r.port !== 'number' || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw badRegistration('port');
  let rights;
  try {
    rights = validateRights(r.worker, { allow: r.allow, connect: r.connect });
  } catch (err) {
    throw badRegistration((err as Error).message);
  }
  if (typeof r.commands !== 'object' || r.commands === null || Array.isArray(r.commands)) throw badRegistration('commands');
  const commands = Object.create(null) as CommandTable;
  const entries = Object.entries(r.commands as Record<string, unknown>);
  if (entries.length > MAX_COMMANDS) throw badRegistration(`${entries.length} commands, more than ${MAX_COMMANDS}`);
  for (const [name, spec] of entries) {
    if (!isName(name)) throw badRegistration(`command name`);
    commands[name] = parseSpec(r.worker, name, spec);
  }
  return { worker: r.worker, variant: r.variant, host: (r.host as string | null) ?? null, port: r.port, ...rights, commands };
}

function parseSpec(worker: string, name: string, input: unknown): CommandTable[string] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRegistration(`command '${name}'`);
  const s = input as Record<string, unknown>;
  if (s.kind !== 'balanced' && s.kind !== 'broadcast') throw badRegistration(`command '${name}' kind`);
  // On the wire every spec carries `responds`/`queued`; `false` there means what absent means in a schema.
  const flag = (value: unknown): unknown => (value === false ? undefined : value);
  try {
    return normalizeCommandSpec(worker, name, s.kind, {
      responds: flag(s.responds),
      queued: flag(s.queued),
      timeout: s.timeout,
      retries: s.retries,
    });
  } catch (err) {
    throw badRegistration((err as Error).message);
  }
}

/** With a schema, the manager holds each worker to the rights the schema gives it. */
export function checkAgainstSchema(registration: Registration, schema: ReadonlyMap<string, NormalizedWorker>): void {
  const def = schema.get(registration.worker);
  if (!def) {
    const hint = suggestName(registration.worker, schema.keys());
    throw new MeshError(
      MeshErrorCode.ACCESS_DENIED,
      `worker '${registration.worker}' is not in the manager's schema${hint ? ` (did you mean '${hint}'?)` : ''}`,
    );
  }
  const extraConnect = registration.connect.filter((n) => !def.connect.includes(n));
  if (extraConnect.length > 0) {
    throw new MeshError(
      MeshErrorCode.ACCESS_DENIED,
      `worker '${registration.worker}' claims connect ${JSON.stringify(extraConnect)} which the manager's schema does not give it`,
    );
  }
  if (def.allow !== 'anyNode') {
    const allowed = def.allow;
    const claimed = registration.allow === 'anyNode' ? ['anyNode'] : registration.allow.filter((n) => !allowed.includes(n));
    if (claimed.length > 0) {
      throw new MeshError(
        MeshErrorCode.ACCESS_DENIED,
        `worker '${registration.worker}' claims allow ${JSON.stringify(claimed)} which the manager's schema does not give it`,
      );
    }
  }
}
