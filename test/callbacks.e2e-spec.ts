/**
 * User callbacks and event handlers that throw or reject, in real processes of both fronts:
 * the failure is logged with its stack and the process keeps serving. Before this, the plain
 * API's async `onConnection` turned a rejection into an unhandled one that ended the process.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { killAll, startManager, startWorker, stopAll, type Front, type WorkerHandle } from './support/mesh-process.js';
import { waitFor } from './support/wait-for.js';

afterAll(async () => {
  await stopAll();
  await killAll();
}, 30_000);

/** True while the process has not exited. */
async function running(worker: WorkerHandle): Promise<boolean> {
  const probe = Symbol('running');
  return (await Promise.race([worker.exited, Promise.resolve(probe)])) === probe;
}

describe.each(['plain', 'nest'] as Front[])('failing callbacks (%s front)', (front) => {
  it('are logged with their stack and never end the process', async () => {
    const manager = await startManager('plain');
    const address = { host: '127.0.0.1', port: manager.port };
    const b = await startWorker(front, {
      worker: 'NodeB',
      manager: address,
      allow: ['NodeA'],
      advertiseHost: '127.0.0.1',
      failingCallbacks: true,
    });
    const a = await startWorker(front, {
      worker: 'NodeA',
      manager: address,
      connect: ['NodeB'],
      advertiseHost: '127.0.0.1',
      failingCallbacks: true,
    });

    await a.waitForEvent('peer.connected', (p) => p.worker === 'NodeB', 10_000);
    await b.waitForEvent('peer.connected', (p) => p.worker === 'NodeA', 10_000);
    const failure =
      front === 'plain'
        ? /onConnection callback failed: onConnection failed on purpose/
        : /peer\.connected.*failed: peer\.connected handler failed on purpose/;
    await waitFor(() => failure.test(a.output()) && failure.test(b.output()), 10_000, 'the rejected callbacks to be logged');
    // The stack comes with the message: the line after it is a stack frame of the fixture.
    expect(a.output()).toMatch(/failed on purpose\n\s+at .*worker/);
    const syncFailure =
      front === 'plain'
        ? /onConnected callback failed/
        : /@OnMeshEvent\('connected'\).*failed: connected handler failed on purpose/;
    expect(a.output()).toMatch(syncFailure);

    // Both still serve after their callbacks failed.
    await expect(a.callOk('NodeB', 'status', { test: 'after' })).resolves.toMatchObject({ status: 'ok after' });
    expect(await running(a)).toBe(true);
    expect(await running(b)).toBe(true);

    // The caller leaving makes NodeB's disconnection callback run (and, plain, reject): NodeB stays up.
    const since = b.mark();
    await a.stop();
    await b.waitForEvent('peer.disconnected', (p) => p.worker === 'NodeA', 10_000, since);
    if (front === 'plain')
      await waitFor(() => /onDisconnection callback failed/.test(b.output()), 10_000, 'the disconnection failure to be logged');
    await expect(b.peers()).resolves.toEqual([]);
    expect(await running(b)).toBe(true);
    expect(b.output()).not.toMatch(/unhandled/i);
  });
});
