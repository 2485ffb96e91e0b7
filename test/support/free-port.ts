import { createServer } from 'node:net';

// Ports handed out by this process: two asks in a row never get the same one, even before
// anything listens on the first.
const given = new Set<number>();

/** A TCP port nothing listens on right now (any interface), never one given out before in this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port > 0 && !given.has(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('freePort: no new free port found in 50 attempts');
}
