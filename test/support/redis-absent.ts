import { connect } from 'node:net';
import { expect } from '@jest/globals';
import { REDIS_URL } from './redis.js';

/**
 * For the Redis suites' "not run" case, outside CI (with CI=true the Redis cases run and fail
 * without a Redis, DESIGN §8). Says loudly what did not run, then checks that skipping was
 * right: nothing accepts a TCP connection at REDIS_URL's host:port. A Redis that is only slow
 * (busy machine, PING later than the 1 s probe) fails here instead of silently skipping the suite.
 */
export async function expectRedisAbsent(suite: string, skipped: string, url: string = REDIS_URL): Promise<void> {
  console.warn(
    `\n!!! ${suite}: no Redis answers at ${url}: ${skipped} did NOT run. ` +
      'Start one (or set REDIS_URL); with CI=true a missing Redis fails the run. !!!\n',
  );
  const { hostname, port } = new URL(url);
  const accepted = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  expect({ url, accepting: accepted }).toEqual({ url, accepting: false });
}
