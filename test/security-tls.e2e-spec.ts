/**
 * Identities with TLS, against real processes: certificates made with `openssl` at test time
 * (a CA, the manager, NodeA by URI SAN, NodeB by CN only, a second CA for the rotation, a rogue
 * CA), in a temporary directory removed afterwards.
 */
import { existsSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deriveMeshKeys } from '../lib/core/crypto/mesh-keys.js';
import { loadSocketIoClient } from '../lib/core/lazy-socket-io.js';
import { PeerLink } from '../lib/core/peer-link.js';
import type { MeshTlsOptions } from '../lib/core/tls/tls-options.js';
import {
  answeringFrom,
  describeSummary,
  mergeSummaries,
  registry,
  startRollingLoad,
  stopLoad,
  waitForPeers,
} from './reliability-harness.js';
import type { FixtureTls, LoadSummary } from './support/fixture-protocol.js';
import { freePort } from './support/free-port.js';
import {
  startManager,
  startWorker,
  stopAll,
  TEST_KEYS,
  type Front,
  type ManagerHandle,
  type WorkerHandle,
} from './support/mesh-process.js';
import { recordingLogger } from './support/recording-logger.js';
import { TestCertificates, type TestCa, type TestLeaf } from './support/test-certificates.js';
import { waitFor, waitForEmit } from './support/wait-for.js';

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('identities with TLS (certificates on every link)', () => {
  let certs: TestCertificates;
  let oldCa: TestCa;
  let newCa: TestCa;
  let rogueCa: TestCa;
  let leaf: Record<'manager' | 'nodeA' | 'nodeB' | 'rogueA', TestLeaf>;
  /** Both CAs in one PEM bundle: what every node holds during a CA rotation. */
  let bundle: string;
  const tls = (l: TestLeaf, ca: string | string[] = bundle): FixtureTls => ({ key: l.key, cert: l.cert, ca });

  beforeAll(() => {
    certs = new TestCertificates();
    oldCa = certs.ca('mesh-ca-old');
    newCa = certs.ca('mesh-ca-new');
    rogueCa = certs.ca('rogue-ca');
    bundle = oldCa.cert + newCa.cert;
    leaf = {
      manager: certs.leaf(oldCa, { cn: 'manager' }),
      // The URI SAN names the holder, whatever the CN says.
      nodeA: certs.leaf(oldCa, { cn: 'not-the-name', uri: 'spiffe://example.org/NodeA' }),
      nodeB: certs.leaf(oldCa, { cn: 'NodeB' }),
      rogueA: certs.leaf(rogueCa, { cn: 'NodeA', uri: 'spiffe://example.org/NodeA' }),
    };
  }, 60_000);

  afterAll(async () => {
    expect(await stopAll()).toEqual([]);
    const dir = certs.dir;
    certs.remove();
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  describe('one mesh: Nest manager, plain NodeA (URI SAN), Nest NodeB (CN only)', () => {
    let m: ManagerHandle;
    let a: WorkerHandle;
    let b: WorkerHandle;
    let manager: { host: string; port: number };

    beforeAll(async () => {
      const port = await freePort();
      manager = { host: '127.0.0.1', port };
      m = await startManager('nest', { port, tls: tls(leaf.manager), logLevel: 'debug' });
      b = await startWorker('nest', { worker: 'NodeB', variant: 'tls-b', manager, allow: ['NodeA'], tls: tls(leaf.nodeB) });
      a = await startWorker('plain', {
        worker: 'NodeA',
        variant: 'tls-a',
        manager,
        connect: ['NodeB'],
        tls: tls(leaf.nodeA),
        logLevel: 'debug',
      });
      await waitForPeers(a, 'NodeB', ['tls-b']);
    }, 90_000);

    it('calls work over TLS, the shared-key handshake still inside', async () => {
      await expect(a.callOk('NodeB', 'status', { test: 'tls' })).resolves.toEqual({ status: 'ok tls', variant: 'tls-b' });
      await expect(a.callOk('NodeB', 'echo', { big: 'x'.repeat(50_000) })).resolves.toEqual({ big: 'x'.repeat(50_000) });
      const entries = await registry(m);
      expect(entries.map((e) => `${e.worker}/${e.variant}`).sort()).toEqual(['NodeA/tls-a', 'NodeB/tls-b']);
    });

    it('the manager refuses a key holder whose certificate names NodeA registering as NodeB (even to replace its variant)', async () => {
      // NodeB's own variant: a successful registration would replace the real instance.
      const impostor = await startWorker('plain', {
        worker: 'NodeB',
        variant: 'tls-b',
        manager,
        allow: ['NodeA'],
        tls: tls(leaf.nodeA),
      });
      await waitFor(() => impostor.output().includes('the manager refused this worker'), 15_000, 'the refusal');
      const line = 'worker "NodeB" is not the name its certificate gives ("NodeA")';
      expect(impostor.output()).toContain(line);
      // It warned at start that its certificate names someone else.
      expect(impostor.output()).toContain('the TLS certificate names "NodeA", not "NodeB"');
      await waitFor(() => m.output().includes(line), 5000, 'the manager log line');
      expect(count(m.output(), line)).toBeGreaterThanOrEqual(1);
      // Logged at warn once per address and pair of names; repeats go to debug.
      expect(
        m
          .output()
          .split('\n')
          .filter((l) => l.includes(line) && /WARN/.test(l)),
      ).toHaveLength(1);
      expect(impostor.history.filter((e) => e.name === 'connected')).toEqual([]);
      const entries = (await registry(m)).map((e) => `${e.worker}/${e.variant}:${e.port}`).sort();
      expect(entries).toEqual([`NodeA/tls-a:${a.port}`, `NodeB/tls-b:${b.port}`]);
      expect(impostor.port).not.toBe(b.port);
      // NodeB's real instance still gets every call.
      await expect(a.callOk('NodeB', 'status', { test: 'after' })).resolves.toEqual({ status: 'ok after', variant: 'tls-b' });
      await impostor.kill();
    }, 30_000);

    it("a callee admits a caller only under its certificate's name; a caller checks the callee's name", async () => {
      await loadSocketIoClient();
      const dial = (self: string, target: { worker: string; port: number }, cert: TestLeaf) => {
        const logger = recordingLogger();
        const link = new PeerLink(
          {
            worker: target.worker,
            variant: target.worker === 'NodeB' ? 'tls-b' : 'tls-a',
            host: '127.0.0.1',
            port: target.port,
            commands: {},
          },
          {
            self: { worker: self, variant: `probe-${self}` },
            keys: deriveMeshKeys(TEST_KEYS.publicKey, TEST_KEYS.privateKey),
            logger,
            maxFrameSize: 1 << 20,
            maxPending: 10,
            heartbeat: { interval: 2000, timeout: 2500 },
            tls: { key: cert.key, cert: cert.cert, ca: bundle } satisfies MeshTlsOptions,
          },
        );
        return { link, logger };
      };
      // NodeA's certificate, claiming NodeC: refused (sealed, so the link closes for good).
      const claimC = dial('NodeC', { worker: 'NodeB', port: b.port }, leaf.nodeA);
      try {
        const [message] = await waitForEmit<[string]>(claimC.link, 'denied', 15_000);
        expect(message).toBe('"NodeC" is not the name its certificate gives ("NodeA")');
        expect(claimC.link.state).toBe('denied');
      } finally {
        claimC.link.close();
      }
      await waitFor(
        () => b.output().includes('refused NodeC/probe-NodeC: "NodeC" is not the name its certificate gives ("NodeA")'),
        5000,
        "NodeB's log line",
      );
      // The same certificate under its own name is admitted: the name was the reason.
      const honest = dial('NodeA', { worker: 'NodeB', port: b.port }, leaf.nodeA);
      try {
        await waitForEmit(honest.link, 'ready', 15_000);
        await expect(honest.link.request('status', JSON.stringify({ test: 'probe' }), 5000)).resolves.toEqual({
          status: 'ok probe',
          variant: 'tls-b',
        });
      } finally {
        honest.link.close();
      }
      // Dialing NodeA's port as if it were NodeB: NodeA's certificate names NodeA, so the caller hangs up.
      const wrongCallee = dial('NodeA', { worker: 'NodeB', port: a.port }, leaf.nodeA);
      try {
        await waitFor(() => wrongCallee.logger.lines.find((l) => l.message.includes('failed to connect')), 15_000, 'the refusal');
        expect(wrongCallee.logger.lines.map((l) => l.message).join('\n')).toContain(
          "the certificate names 'NodeA', expected 'NodeB'",
        );
        expect(wrongCallee.link.state).toBe('connecting');
      } finally {
        wrongCallee.link.close();
      }
    }, 60_000);

    it('a certificate from an unknown CA cannot connect, to the manager or to a worker', async () => {
      const rogue = await startWorker('plain', {
        worker: 'NodeA',
        variant: 'rogue',
        manager,
        connect: ['NodeB'],
        tls: tls(leaf.rogueA),
      });
      await waitFor(() => /cannot reach the manager/.test(rogue.output()), 15_000, 'the failed connection');
      expect(rogue.history.filter((e) => e.name === 'connected')).toEqual([]);
      expect((await registry(m)).map((e) => e.variant)).not.toContain('rogue');
      await rogue.kill();
      // Straight at NodeB's mesh port: the TLS handshake itself fails, no HTTP answer comes back.
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: b.port,
        key: leaf.rogueA.key,
        cert: leaf.rogueA.cert,
        ca: bundle,
        checkServerIdentity: () => undefined,
      });
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      socket.once('secureConnect', () => socket.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\r\n'));
      const outcome = await new Promise<string>((resolve) => {
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        socket.once('close', () => resolve('closed'));
      });
      socket.destroy();
      // The alert may arrive as an error, or as a reset or broken pipe when it races the write.
      expect(outcome).toMatch(/UNKNOWN_CA|closed|ECONNRESET|EPIPE/);
      expect(Buffer.concat(received).toString()).toBe('');
    }, 30_000);
  });

  it('a CA rotation: nodes holding the old and the new CA roll to new-CA certificates with 0 failed calls', async () => {
    const port = await freePort();
    const manager = { host: '127.0.0.1', port };
    const fronts: Record<'B1' | 'B2', Front> = { B1: 'plain', B2: 'nest' };
    const newLeaf = {
      manager: certs.leaf(newCa, { cn: 'manager', uri: 'spiffe://example.org/mesh/manager' }),
      nodeB: certs.leaf(newCa, { cn: 'NodeB', uri: 'spiffe://example.org/ns/mesh/NodeB' }),
    };
    const startB = (which: 'B1' | 'B2', cert: TestLeaf) =>
      startWorker(fronts[which], {
        worker: 'NodeB',
        variant: `rot-${which}`,
        manager,
        allow: ['NodeA'],
        tls: tls(cert),
        logLevel: 'warn',
      });
    let m = await startManager('plain', { port, tls: tls(leaf.manager), logLevel: 'warn' });
    const nodes: Record<'B1' | 'B2', WorkerHandle> = { B1: await startB('B1', leaf.nodeB), B2: await startB('B2', leaf.nodeB) };
    // The caller keeps its old-CA certificate throughout: the new-CA nodes accept it through the bundle.
    const a = await startWorker('plain', {
      worker: 'NodeA',
      variant: 'rot-A',
      manager,
      connect: ['NodeB'],
      tls: tls(leaf.nodeA),
      logLevel: 'warn',
    });
    await waitForPeers(a, 'NodeB', ['rot-B1', 'rot-B2']);

    const tag = 'tls-rotation';
    const load = (await startRollingLoad(a, tag, 10)).summary;
    const flowing = (variant: string) => answeringFrom(a, tag, variant);
    const steps: string[] = [];
    for (const which of ['B1', 'B2'] as const) {
      const t0 = Date.now();
      const exit = await (fronts[which] === 'nest' ? nodes[which].kill('SIGTERM') : nodes[which].stop());
      expect(exit.code).toBe(0);
      nodes[which] = await startB(which, newLeaf.nodeB);
      await flowing(`rot-${which}`);
      steps.push(`${which} (${fronts[which]}) on a new-CA certificate, answering after ${Date.now() - t0} ms`);
    }
    const marks = (['B1', 'B2'] as const).map((w) => [w, nodes[w].mark()] as const);
    const aMark = a.mark();
    await m.stop();
    m = await startManager('plain', { port, tls: tls(newLeaf.manager), logLevel: 'warn' });
    await Promise.all([
      ...marks.map(([w, mark]) => nodes[w].waitForEvent('connected', () => true, 30_000, mark)),
      a.waitForEvent('connected', () => true, 30_000, aMark),
    ]);
    steps.push('manager on a new-CA certificate, every worker registered again');
    await flowing('rot-B1');
    await flowing('rot-B2');
    await stopLoad(a, tag);
    const summary = mergeSummaries([await load] as LoadSummary[]);
    console.log(['TLS CA ROTATION', ...steps.map((s) => `  ${s}`), describeSummary('calls during the roll', summary)].join('\n'));
    expect(summary.calls).toBeGreaterThan(200);
    expect(summary.byCode).toEqual({});
    expect(summary.ok).toBe(summary.calls);

    // A node that trusts only the new CA refuses the old-CA caller: the bundle is what made the roll work.
    const strict = await startWorker('plain', {
      worker: 'NodeB',
      variant: 'rot-strict',
      manager,
      allow: ['NodeA'],
      tls: tls(newLeaf.nodeB, newCa.cert),
      logLevel: 'warn',
    });
    await strict.waitForEvent('connected', () => true, 15_000);
    await waitFor(
      () => /link to NodeB\/rot-strict failed to connect/.test(a.output()),
      20_000,
      'the old-CA caller to be refused',
    );
    expect((await a.peers('NodeB')).map((p) => p.variant)).not.toContain('rot-strict');
    await strict.kill();
  }, 240_000);
});
