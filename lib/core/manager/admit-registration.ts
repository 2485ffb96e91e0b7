import { MeshError, MeshErrorCode } from '../errors.js';
import type { NormalizedWorker } from '../schema.js';
import { checkAgainstSchema, parseRegistration } from './registration.js';
import type { RegisteredInstance, Registry } from './registry.js';

/**
 * A worker's registration as the manager accepts it, or the MeshError it is refused with: the
 * names must be those its handshake proved, the manager's schema (if any) must give it what it
 * claims, and a variant may be taken over only by the worker that holds it (its own restart).
 */
export function admitRegistration(
  input: unknown,
  proven: { worker: string; variant: string },
  address: string,
  schema: Map<string, NormalizedWorker> | undefined,
  registry: Registry,
): RegisteredInstance {
  const registration = parseRegistration(input);
  if (registration.worker !== proven.worker || registration.variant !== proven.variant) {
    throw new MeshError(MeshErrorCode.AUTH_FAILED, 'registration does not match the identity proven in the handshake');
  }
  if (schema) checkAgainstSchema(registration, schema);
  const holder = registry.get(registration.variant);
  if (holder && holder.worker !== registration.worker) {
    throw new MeshError(
      MeshErrorCode.ACCESS_DENIED,
      `variant '${registration.variant}' belongs to a registered '${holder.worker}', not '${registration.worker}'`,
    );
  }
  const host = registration.host ?? stripMappedPrefix(address);
  return { ...registration, host, registeredAt: Date.now() };
}

function stripMappedPrefix(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
