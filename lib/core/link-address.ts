/** Where a worker finds a manager: its socket port directly, or an HTTP base URL that tells the port. */
export type ManagerAddress = { host: string; port: number } | { url: string };

/** IPv6 literals need brackets in a URL. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The manager as logs name it. */
export function describeManager(manager: ManagerAddress): string {
  return 'url' in manager ? manager.url : `${manager.host}:${manager.port}`;
}

/**
 * The URL a worker dials for `manager`: given directly, or asked of the manager's HTTP server
 * (`GET <url>/socket-mesh/port`) each time, since a restarted manager may listen elsewhere.
 */
export async function managerSocketUrl(manager: ManagerAddress, scheme: string): Promise<string> {
  if (!('url' in manager)) return `${scheme}://${formatHost(manager.host)}:${manager.port}`;
  const base = manager.url.replace(/\/+$/, '');
  const response = await fetch(`${base}/socket-mesh/port`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) {
    const hint =
      response.status === 404 ? ' (behind app.setGlobalPrefix()? put the prefix in the url: http://host:port/api)' : '';
    throw new Error(`GET ${base}/socket-mesh/port answered ${response.status}${hint}`);
  }
  const body = (await response.json()) as { port?: unknown };
  if (typeof body.port !== 'number') throw new Error(`GET ${base}/socket-mesh/port gave no port`);
  return `${scheme}://${formatHost(new URL(base).hostname)}:${body.port}`;
}
