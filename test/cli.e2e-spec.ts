/**
 * The `socket-mesh` bin as users run it: real processes from build/. A CLI manager that a Nest
 * worker and a plain worker register with (through its HTTP discovery port), `nodes` printing
 * them, `keygen`, and one clear line with a non-zero exit for every bad input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCli, startCliManager, type CliManager } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { startWorker, stopAll } from './support/mesh-process.js';
import { TestCertificates } from './support/test-certificates.js';
import { waitFor } from './support/wait-for.js';

const TOKEN_ENV = 'SOCKET_MESH_CLI_TEST_TOKEN';
const TOKEN = 'cli-e2e-token-0123456789abcdef';

const managers: CliManager[] = [];
afterAll(async () => {
  await stopAll();
  await Promise.all(managers.map((m) => m.stop('SIGKILL')));
});

describe('socket-mesh keygen', () => {
  it('prints a new strong pair each time, as env lines or JSON', async () => {
    const a = await runCli(['keygen']);
    const b = await runCli(['keygen', '--json']);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const lines = Object.fromEntries(
      a.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    const json = JSON.parse(b.stdout) as { publicKey: string; privateKey: string };
    for (const key of [lines.MESH_PUBLIC_KEY!, lines.MESH_PRIVATE_KEY!, json.publicKey, json.privateKey]) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    }
    expect(new Set([lines.MESH_PUBLIC_KEY, lines.MESH_PRIVATE_KEY, json.publicKey, json.privateKey]).size).toBe(4);
  });
});

describe('socket-mesh: bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socket-mesh-cli-'));
  const badJson = join(dir, 'bad.json');
  writeFileSync(badJson, '{ "NodeA": ');
  const typo = join(dir, 'typo.json');
  writeFileSync(typo, JSON.stringify({ NodeA: { _connect: ['nodeB'] }, NodeB: { _allow: ['NodeA'] } }));

  const cases: [string, string[], Record<string, string | undefined>, RegExp][] = [
    [
      'a port out of range',
      ['manager', '--port', '70000'],
      {},
      /^socket-mesh manager: --port must be a port number 0-65535, got '70000'$/,
    ],
    ['a port that is not a number', ['manager', '--port', '4000', '--http', 'web'], {}, /--http must be a port number/],
    ['no --port', ['manager'], {}, /--port is required/],
    ['an unknown flag', ['manager', '--port', '0', '--verbose'], {}, /^socket-mesh manager: unknown option '--verbose'/],
    [
      'a key on the command line',
      ['manager', '--port', '0', '--private-key', 'x'],
      {},
      /keys are not taken on the command line \('--private-key'\)/,
    ],
    ['missing keys', ['manager', '--port', '0'], { MESH_PRIVATE_KEY: undefined }, /set MESH_PUBLIC_KEY and MESH_PRIVATE_KEY/],
    [
      'an unreadable schema',
      ['manager', '--port', '0', '--schema', join(dir, 'nope.json')],
      {},
      /cannot read the schema file '.*nope\.json': no such file/,
    ],
    [
      'a schema that is not JSON',
      ['manager', '--port', '0', '--schema', badJson],
      {},
      /cannot read the schema file '.*bad\.json'/,
    ],
    ['a schema naming an unknown worker', ['manager', '--port', '0', '--schema', typo], {}, /nodeB.*NodeB/],
    [
      'a token variable that is not set',
      ['manager', '--port', '0', '--token-env', 'SOCKET_MESH_NOT_SET_EVER'],
      {},
      /'SOCKET_MESH_NOT_SET_EVER', which is not set/,
    ],
    [
      'a TLS flag without the other two',
      ['manager', '--port', '0', '--tls-key', join(dir, 'key.pem')],
      {},
      /^socket-mesh manager: --tls-key, --tls-cert and --tls-ca go together \(PEM files\)$/,
    ],
    [
      'an unreadable TLS file',
      ['manager', '--port', '0', '--tls-key', join(dir, 'no.key'), '--tls-cert', badJson, '--tls-ca', badJson],
      {},
      /^socket-mesh manager: --tls-key .*no\.key: ENOENT$/,
    ],
    [
      'TLS files that are not PEM',
      ['manager', '--port', '0', '--tls-key', badJson, '--tls-cert', badJson, '--tls-ca', badJson],
      {},
      /option 'tls\.key' must be a key, certificate and CA that load together/,
    ],
    ['an unknown command', ['frobnicate'], {}, /^socket-mesh: unknown command 'frobnicate'/],
    ['nodes without --url', ['nodes'], {}, /--url is required/],
    ['nodes with a bad url', ['nodes', '--url', 'manager:3000'], {}, /--url must be an http\(s\) URL/],
  ];
  it.each(cases)('refuses %s with one clear line and a non-zero exit', async (_what, args, env, line) => {
    const result = await runCli(args, env);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });

  it('exits non-zero when a port is taken, naming the cause', async () => {
    const m = await startCliManager(['--port', String(await freePort()), '--http', String(await freePort())]);
    managers.push(m);
    const result = await runCli(['manager', '--port', String(m.port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/socket-mesh manager: cannot start: .*EADDRINUSE/);
    expect((await m.stop()).code).toBe(0);
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const word of ['manager', 'nodes', 'keygen', 'MESH_PUBLIC_KEY', '--token-env']) expect(result.stdout).toContain(word);
  });
});

describe('socket-mesh manager', () => {
  it('takes a Nest and a plain worker, `nodes` lists them, SIGTERM ends it with exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-mesh-cli-'));
    const schemaFile = join(dir, 'schema.json');
    // JSON has no functions: a command may be written as true or { responds, queued }.
    writeFileSync(
      schemaFile,
      JSON.stringify({
        NodeA: { _connect: ['NodeB'], _allow: [] },
        NodeB: {
          _allow: ['NodeA'],
          _connect: [],
          _commands: {
            _balanced: { status: true, echo: true, fail: true, slow: true, log: true },
            _broadcast: { collect: { responds: true }, notify: true, ingest: { queued: true } },
          },
        },
      }),
    );
    const manager = await startCliManager(
      [
        '--port',
        String(await freePort()),
        '--http',
        String(await freePort()),
        '--host',
        '127.0.0.1',
        '--schema',
        schemaFile,
        '--token-env',
        TOKEN_ENV,
      ],
      { [TOKEN_ENV]: TOKEN },
    );
    managers.push(manager);
    const url = `http://127.0.0.1:${manager.httpPort}`;
    const nodeB = await startWorker('nest', { worker: 'NodeB', manager: { url }, allow: ['NodeA'] });
    const nodeA = await startWorker('plain', { worker: 'NodeA', manager: { url }, connect: ['NodeB'] });
    await nodeA.waitForEvent('peer.connected', (p) => p.worker === 'NodeB');
    expect(await nodeA.callOk('NodeB', 'status', { test: 'cli' })).toEqual({ status: 'ok cli', variant: nodeB.variant });

    const listed = await runCli(['nodes', '--url', url, '--token-env', TOKEN_ENV], { [TOKEN_ENV]: TOKEN });
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trim().split('\n');
    expect(header).toMatch(/^WORKER\s+VARIANT\s+ADDRESS\s+SINCE\s+CONNECT\s+ALLOW\s+COMMANDS$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(new RegExp(`^NodeA\\s+${nodeA.variant}\\s+127\\.0\\.0\\.1:${nodeA.port}\\s+\\S+Z\\s+NodeB\\s+-\\s`));
    expect(rows[1]).toMatch(
      new RegExp(`^NodeB\\s+${nodeB.variant}\\s+127\\.0\\.0\\.1:${nodeB.port}\\s+\\S+Z\\s+-\\s+NodeA\\s+.*status`),
    );

    const refused = await runCli(['nodes', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `socket-mesh nodes: ${url}/socket-mesh/nodes answered 401 unauthorized (give the token with --token-env NAME)`,
    );

    // The schema holds: a worker it does not define is refused.
    const stranger = await startWorker('plain', { worker: 'NodeC', manager: { url }, connect: ['NodeB'] }).catch(
      (err: Error) => err,
    );
    if (!(stranger instanceof Error)) {
      await waitFor(() => /not in the manager's schema/.test(manager.output()), 10_000, 'the manager to refuse NodeC');
      await stranger.kill();
    }
    expect(manager.output()).toMatch(/worker 'NodeC' is not in the manager's schema/);

    const exit = await manager.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(manager.output()).toContain('socket-mesh manager: SIGTERM, closing');
    // The workers keep running without the manager; they are stopped by afterAll.
    expect(nodeA.process.alive && nodeB.process.alive).toBe(true);
  });

  it('--tls-key/--tls-cert/--tls-ca: workers with certificates from the CA register and call over TLS', async () => {
    const certs = new TestCertificates();
    try {
      const ca = certs.ca('cli-ca');
      const file = (name: string, pem: string) => {
        const path = join(certs.dir, name);
        writeFileSync(path, pem);
        return path;
      };
      const m = certs.leaf(ca, { cn: 'manager' });
      const manager = await startCliManager([
        '--port',
        String(await freePort()),
        '--http',
        String(await freePort()),
        '--tls-key',
        file('manager.key', m.key),
        '--tls-cert',
        file('manager.crt', m.cert),
        '--tls-ca',
        ca.certPath,
      ]);
      managers.push(manager);
      expect(manager.output()).toContain('TLS identities on');
      const url = `http://127.0.0.1:${manager.httpPort}`;
      const tls = (name: string) => ({ ...certs.leaf(ca, { cn: name, uri: `spiffe://example.org/${name}` }), ca: ca.cert });
      const nodeB = await startWorker('plain', { worker: 'NodeB', manager: { url }, allow: ['NodeA'], tls: tls('NodeB') });
      const nodeA = await startWorker('plain', { worker: 'NodeA', manager: { url }, connect: ['NodeB'], tls: tls('NodeA') });
      await nodeA.waitForEvent('peer.connected', (p) => p.worker === 'NodeB');
      expect(await nodeA.callOk('NodeB', 'status', { test: 'tls' })).toEqual({ status: 'ok tls', variant: nodeB.variant });
      // A worker without TLS cannot reach a TLS manager.
      const plain = await startWorker('plain', { worker: 'NodeA', manager: { url }, connect: ['NodeB'] });
      await waitFor(() => /cannot reach the manager/.test(plain.output()), 15_000, 'the plain worker to fail');
      expect(plain.history.filter((e) => e.name === 'connected')).toEqual([]);
      await Promise.all([plain.kill(), nodeA.stop(), nodeB.stop()]);
      expect((await manager.stop('SIGTERM')).code).toBe(0);
    } finally {
      certs.remove();
    }
  }, 60_000);
});
