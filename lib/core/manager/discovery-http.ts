import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { RegistryEntry } from './registry.js';

/** What the discovery endpoints read. */
export interface DiscoverySource {
  readonly port: number;
  nodes(): RegistryEntry[];
}

/**
 * Answers `GET /socket-mesh/port` (the socket port workers given `manager: { url }` dial) and
 * `GET /socket-mesh/nodes` (the registry). Used on the manager's socket port and, when that
 * port is chosen at run time, on its own discovery server.
 */
export function serveDiscovery(source: DiscoverySource, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'GET' && path === '/socket-mesh/port') return json(res, 200, { port: source.port });
  if (req.method === 'GET' && path === '/socket-mesh/nodes') return json(res, 200, source.nodes());
  json(res, 404, { error: 'not found' });
}

/** A separate HTTP server serving only discovery (the seed's port 8765). */
export function createDiscoveryServer(source: DiscoverySource): HttpServer {
  return createServer((req, res) => serveDiscovery(source, req, res));
}

/** Closes a discovery server, keep-alive connections included. */
export async function closeDiscoveryServer(server: HttpServer | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
