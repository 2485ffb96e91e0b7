/**
 * Why a socket.io connection attempt failed, in words a reader can act on. socket.io-client
 * reports a refused TCP connection as "websocket error", with the real cause one or two levels
 * down (`err.description`, a ws ErrorEvent whose `error` carries the code): dig it out, so the
 * log says `ECONNREFUSED (connect ECONNREFUSED 10.0.0.5:7000)` instead.
 */
export function describeConnectError(err: unknown): string {
  const top = asRecord(err);
  const message = typeof top?.message === 'string' ? top.message : String(err);
  for (const candidate of [top?.description, asRecord(top?.description)?.error, top?.cause, asRecord(top?.cause)?.cause]) {
    const found = asRecord(candidate);
    if (!found) continue;
    const code = typeof found.code === 'string' ? found.code : undefined;
    const detail = typeof found.message === 'string' && found.message.length > 0 ? found.message : undefined;
    if (code) return detail && detail !== code ? `${code} (${detail})` : code;
    if (detail && detail !== message) {
      const inner = asRecord(found.error);
      if (typeof inner?.code === 'string') return `${inner.code} (${detail})`;
      return detail;
    }
  }
  return message;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
