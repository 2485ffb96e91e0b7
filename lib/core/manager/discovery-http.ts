import type { Server as HttpServer } from 'node:http';

/** Closes the manager's HTTP server, keep-alive connections included. */
export async function closeDiscoveryServer(server: HttpServer | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
