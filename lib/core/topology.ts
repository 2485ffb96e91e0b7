import { ANY_NODE } from './schema.js';

export interface RightsHolder {
  name: string;
  allow: readonly string[] | 'anyNode';
  connect: readonly string[];
}

/** Why not, for error messages: 'not-in-connect' | 'refused-by-allow' | undefined when allowed. */
export function connectionDenial(from: RightsHolder, to: RightsHolder): 'not-in-connect' | 'refused-by-allow' | undefined {
  if (!from.connect.includes(to.name)) return 'not-in-connect';
  // An un-normalised ['anyNode'] (rights that skipped validation) still means everyone.
  if (to.allow === ANY_NODE || to.allow.includes(ANY_NODE)) return undefined;
  return to.allow.includes(from.name) ? undefined : 'refused-by-allow';
}

/** A→B exists only if A's connect has B and B's allow has A or is 'anyNode'. Directional. */
export function canConnect(from: RightsHolder, to: RightsHolder): boolean {
  return connectionDenial(from, to) === undefined;
}
