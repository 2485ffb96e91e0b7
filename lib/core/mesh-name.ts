/**
 * Worker names and variants travel to other processes and into their logs: one charset, one
 * bound, checked at every entry, so a name can never carry a line break, a path or markup.
 */
export const MESH_NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const MESH_NAME_RULE = "letters, digits and '._-:', 1 to 128 characters";

export function isMeshName(value: unknown): value is string {
  return typeof value === 'string' && MESH_NAME_PATTERN.test(value);
}

/**
 * An untrusted string made safe for one log line: control characters, quotes and backslashes
 * escaped (JSON rules), non-ASCII escaped, cut at `max` characters.
 */
export function forLog(value: unknown, max = 160): string {
  return JSON.stringify(cut(value, max)).replace(NON_ASCII, escapeChar);
}

/**
 * A remote's free text (a refusal reason) made safe for one log line without quoting it:
 * control and non-ASCII characters escaped, cut at `max` characters; quotes left as sent.
 */
export function textForLog(value: unknown, max = 300): string {
  // eslint-disable-next-line no-control-regex
  return cut(value, max).replace(/[\u0000-\u001f\u007f-\uffff]/g, escapeChar);
}

const NON_ASCII = /[\u007f-\uffff]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function cut(value: unknown, max: number): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;
}
