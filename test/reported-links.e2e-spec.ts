/**
 * The live links workers report to the manager (Msg.LINKS): worker processes (plain and Nest)
 * against a Manager in this process, whose topology view (what GET /socket-mesh/topology and
 * the event stream carry) is read directly. Links appear within 2 s of the workers linking,
 * follow a peer's leave, vanish with the reporting instance, and come back by themselves after
 * a manager restart (soft state the workers send again on registering).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Manager } from '../lib/core/manager.js';
import type { ReportedLink } from '../lib/core/manager-http/topology-view.js';
import { freePort } from './support/free-port.js';
import { startWorker, stopAll, TEST_KEYS, type WorkerHandle } from './support/mesh-process.js';
import { waitFor, waitForEmit } from './support/wait-for.js';

const managers: Manager[] = [];
afterAll(async () => {
  await stopAll();
  await Promise.all(managers.map((m) => m.close()));
});

function startManager(port: number): Manager {
  const manager = new Manager({ ...TEST_KEYS, port, host: '127.0.0.1', logLevel: 'warn' });
  managers.push(manager);
  return manager;
}

const reported = (manager: Manager): ReportedLink[] => manager.routes.feed.view().reportedLinks;
const pairs = (manager: Manager) => reported(manager).map((l) => `${l.fromVariant}->${l.toVariant}:${l.state}`);

/** Both 'peer.connected' (outgoing) events of `a` toward `bs`. */
async function linkedTo(a: WorkerHandle, bs: WorkerHandle[]): Promise<void> {
  for (const b of bs)
    await a.waitForEvent('peer.connected', (p) => p.variant === b.variant && p.direction === 'outgoing', 10_000);
}

describe('reported links', () => {
  it('appear once workers link, follow a leave, vanish with the reporter and return after a manager restart', async () => {
    const port = await freePort();
    let manager = startManager(port);
    await manager.ready();
    const at = { host: '127.0.0.1', port };
    const [b1, b2] = await Promise.all([
      startWorker('plain', { worker: 'NodeB', manager: at, allow: ['NodeA'] }),
      startWorker('plain', { worker: 'NodeB', manager: at, allow: ['NodeA'] }),
    ]);
    await Promise.all([b1.waitForEvent('connected'), b2.waitForEvent('connected')]);
    const a = await startWorker('nest', { worker: 'NodeA', manager: at, connect: ['NodeB'] });

    await linkedTo(a, [b1, b2]);
    const linked = Date.now();
    const expected = [b1, b2].map((b) => `${a.variant}->${b.variant}:ready`).sort();
    await waitFor(() => pairs(manager).join() === expected.join(), 2000, 'both links reported');
    const appeared = Date.now() - linked;
    expect(reported(manager).every((l) => l.from === 'NodeA' && l.to === 'NodeB')).toBe(true);

    // A peer leaves: the reporter's own report changes (not only the view's filter of gone instances).
    const reportChanged = waitForEmit(manager, 'links', 2000, (variant: string) => variant === a.variant);
    const leaving = Date.now();
    await b2.stop();
    await reportChanged;
    await waitFor(() => pairs(manager).join() === `${a.variant}->${b1.variant}:ready`, 2000, 'only the link to b1');
    const followed = Date.now() - leaving;

    // The manager restarts: nothing is stored, the reporter sends its links again on registering.
    await manager.close();
    manager = startManager(port);
    await manager.ready();
    const restarted = Date.now();
    await waitFor(() => pairs(manager).join() === `${a.variant}->${b1.variant}:ready`, 5000, 'links after the restart');
    const back = Date.now() - restarted;

    // The reporter leaves: its links vanish and the manager keeps nothing of them.
    const stopped = Date.now();
    await a.stop();
    await waitFor(() => reported(manager).length === 0, 2000, 'no reported link');
    const vanished = Date.now() - stopped;
    expect((manager as unknown as { reported: { size: number } }).reported.size).toBe(0);
    process.stdout.write(
      `reported links: appeared ${appeared} ms after linking, followed a leave in ${followed} ms, ` +
        `back ${back} ms after a manager restart, gone ${vanished} ms after the reporter stopped\n`,
    );
    expect(appeared).toBeLessThan(2000);
    expect(followed).toBeLessThan(2000);
    expect(vanished).toBeLessThan(2000);
  });
});
