/**
 * Name helpers for messages: the near-miss hint ("did you mean …?") and value describers,
 * shared by the schema, the options layer, the node and the manager.
 */

/** Near-miss hints look at most this many candidates, each at most this long. */
const MAX_HINT_CANDIDATES = 1024;
const MAX_HINT_LENGTH = 128;

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The likely intended name: same ignoring case, else closest within 2 edits (first wins ties).
 * A name that is itself one of the candidates is no typo: nothing is suggested for it.
 */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  // Bounded: names may come from the network, a hint is not worth a quadratic scan of a huge list.
  if (name.length > MAX_HINT_LENGTH) return undefined;
  const list: string[] = [];
  for (const candidate of candidates) {
    if (list.length >= MAX_HINT_CANDIDATES) break;
    list.push(candidate);
  }
  if (list.includes(name)) return undefined;
  const lower = name.toLowerCase();
  const sameCase = list.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of list) {
    // More than 2 edits apart by length alone, or too long to be worth it: no Levenshtein.
    if (Math.abs(candidate.length - name.length) >= bestDistance || candidate.length > MAX_HINT_LENGTH) continue;
    const d = levenshtein(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean 'x'?)`, or '' when no candidate is close (or `name` is itself one). */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const suggestion = suggestName(name, candidates);
  return suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
}

/** Describes a value for an options message without coercing it (no `[object Object]`, no secrets). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a string`;
  if (typeof value === 'number') return `${value}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return `${typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`}`;
}

/** Quotes a name for a message; non-strings are shown for what they are, not coerced. */
export function describeName(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** An error's message for a log line or a wrapped error. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
