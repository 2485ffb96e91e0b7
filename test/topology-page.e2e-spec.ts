/**
 * The manager's topology page in a real browser (headless Chromium from the Debian package,
 * driven by playwright-core): a CLI manager with a bearer token, a plain worker and two Nest
 * instances; the page lists them and drops one within 2 s of it closing. Screenshots go to
 * test-artifacts/ (gitignored). The same routes of the Nest manager are checked over HTTP.
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { chromium, type Browser } from 'playwright-core';
import { SocketMeshModule } from '../lib/nest/socket-mesh.module.js';
import { startCliManager, type CliManager } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { REPO_ROOT, startWorker, stopAll, TEST_KEYS } from './support/mesh-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const TOKEN_ENV = 'SOCKET_MESH_PAGE_TEST_TOKEN';
const TOKEN = 'page-e2e-token-0123456789abcdef';

/** What the page functions below touch of the browser's globals (the test compiles without the DOM lib). */
type PageGlobals = {
  document: {
    body: { dataset: Record<string, string | undefined> };
    getElementById(id: string): { dataset: Record<string, string | undefined> } | null;
  };
};
const instancesShown = (count: string) => (globalThis as unknown as PageGlobals).document.body.dataset.instances === count;
const reportedShown = (count: string) => (globalThis as unknown as PageGlobals).document.body.dataset.reportedLinks === count;
const statusIs = (state: string) =>
  (globalThis as unknown as PageGlobals).document.getElementById('status')?.dataset.state === state;

let browser: Browser | undefined;
let manager: CliManager | undefined;
let app: INestApplication | undefined;
afterAll(async () => {
  await browser?.close();
  await stopAll();
  await manager?.stop('SIGKILL');
  await app?.close();
});

describe('topology page in Chromium', () => {
  it('shows workers, instances and rights, and drops an instance within 2 s of it closing', async () => {
    manager = await startCliManager(
      ['--port', String(await freePort()), '--http', String(await freePort()), '--host', '127.0.0.1', '--token-env', TOKEN_ENV],
      { [TOKEN_ENV]: TOKEN },
    );
    const url = `http://127.0.0.1:${manager.httpPort}`;
    const [b1, b2] = await Promise.all([
      startWorker('nest', { worker: 'NodeB', manager: { url }, allow: ['NodeA'] }),
      startWorker('nest', { worker: 'NodeB', manager: { url }, allow: ['NodeA'] }),
    ]);
    const a = await startWorker('plain', { worker: 'NodeA', manager: { url }, connect: ['NodeB'] });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url)) external.push(r.url());
    });
    await page.goto(`${url}/socket-mesh/ui#token=${TOKEN}`);
    await page.waitForFunction(instancesShown, '3', { timeout: 10_000 });
    expect(await page.textContent('#status')).toBe('live');

    const instances = await page.$$eval('#instances tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(instances.map((r) => r[1]).sort()).toEqual([a.variant, b1.variant, b2.variant].sort());
    expect(instances.find((r) => r[1] === a.variant)).toEqual([
      'NodeA',
      a.variant,
      `127.0.0.1:${a.port}`,
      expect.stringMatching(/Z \(\d+ s ago\)$/),
    ]);
    const workers = await page.$$eval('#workers tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)),
    );
    expect(workers).toEqual([
      ['NodeA', '1', '—', 'NodeB'],
      ['NodeB', '2', 'NodeA', '—'],
    ]);
    const links = await page.$$eval('#links tbody tr', (rows) => rows.map((r) => r.textContent));
    expect(links).toEqual(['NodeA→NodeB']);
    // The live links NodeA reports: one per NodeB instance, once it linked to them.
    await page.waitForFunction(reportedShown, '2', { timeout: 10_000 });
    const reportedRows = () =>
      page.$$eval('#reported tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(await reportedRows()).toEqual(
      [b1, b2].map((b) => ['NodeA', a.variant, '→', 'NodeB', b.variant, 'ready']).sort((x, y) => (x[4]! < y[4]! ? -1 : 1)),
    );
    const json = (await (
      await fetch(`${url}/socket-mesh/topology`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { reportedLinks: { from: string; fromVariant: string; to: string; toVariant: string; state: string }[] };
    expect(json.reportedLinks.map((l) => l.toVariant).sort()).toEqual([b1.variant, b2.variant].sort());
    expect(json.reportedLinks.every((l) => l.from === 'NodeA' && l.fromVariant === a.variant && l.state === 'ready')).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'topology-page.png'), fullPage: true });

    const started = Date.now();
    const stopping = b2.stop();
    await page.waitForFunction(instancesShown, '2', { timeout: 2000 });
    const elapsed = Date.now() - started;
    await page.waitForFunction(reportedShown, '1', { timeout: Math.max(1, 2000 - (Date.now() - started)) });
    const linkGone = Date.now() - started;
    await stopping;
    expect(await reportedRows()).toEqual([['NodeA', a.variant, '→', 'NodeB', b1.variant, 'ready']]);
    const left = await page.$$eval('#instances tbody tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
    expect(left.sort()).toEqual([a.variant, b1.variant].sort());
    await page.screenshot({ path: join(ARTIFACTS, 'topology-page-after-leave.png'), fullPage: true });
    process.stdout.write(
      `topology page: instance gone from the page ${elapsed} ms, its reported link ${linkGone} ms after stop() began\n`,
    );
    expect(elapsed).toBeLessThan(2000);
    expect(linkGone).toBeLessThan(2000);
    expect(external).toEqual([]); // works offline: nothing but the manager's own origin
  });

  it('without the token the page says so and shows no data', async () => {
    const url = `http://127.0.0.1:${manager!.httpPort}`;
    const page = await browser!.newPage();
    await page.goto(`${url}/socket-mesh/ui`);
    await page.waitForFunction(statusIs, 'error', { timeout: 10_000 });
    expect(await page.textContent('#status')).toMatch(/unauthorized/);
    expect(await page.$$eval('#instances tbody td', (cells) => cells.length)).toBe(0);
    await page.close();
  });
});

describe('topology routes of the Nest manager', () => {
  it('serve the page, the JSON view and the event stream behind httpAuth; /port stays open', async () => {
    const port = await freePort();
    @Module({ imports: [SocketMeshModule.forManager({ port, ...TEST_KEYS, httpAuth: { token: TOKEN } })] })
    class ManagerModule {}
    app = await NestFactory.create(ManagerModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const auth = { authorization: `Bearer ${TOKEN}` };

    expect(await (await fetch(`${url}/socket-mesh/port`)).json()).toEqual({ port });
    for (const path of ['nodes', 'topology', 'events']) {
      expect({ path, status: (await fetch(`${url}/socket-mesh/${path}`)).status }).toEqual({ path, status: 401 });
      expect({
        path,
        status: (await fetch(`${url}/socket-mesh/${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } }))
          .status,
      }).toEqual({ path, status: 401 });
    }
    const page = await fetch(`${url}/socket-mesh/ui`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script src="ui.js"></script>');
    expect((await fetch(`${url}/socket-mesh/ui.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);

    const nodeB = await startWorker('plain', { worker: 'NodeB', manager: { url }, allow: 'anyNode' });
    await nodeB.waitForEvent('connected');
    const view = (await (await fetch(`${url}/socket-mesh/topology`, { headers: auth })).json()) as {
      instances: { variant: string }[];
    };
    expect(view.instances.map((i) => i.variant)).toEqual([nodeB.variant]);

    const controller = new AbortController();
    const events = await fetch(`${url}/socket-mesh/events`, { headers: auth, signal: controller.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = events.body!.getReader();
    let text = '';
    const nextEvent = async (predicate: (t: string) => boolean) => {
      while (!predicate(text)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended: ${text}`);
        text += new TextDecoder().decode(chunk.value);
      }
    };
    await nextEvent((t) => t.includes(nodeB.variant));
    expect(text).toMatch(/^event: topology\n/m);
    text = '';
    await nodeB.stop();
    await nextEvent((t) => /"instances":\[\]/.test(t));
    // Closing the app ends open event streams instead of waiting for the viewers to leave.
    const closing = app!.close();
    app = undefined;
    await expect(nextEvent(() => false)).rejects.toThrow(/stream ended/);
    await closing;
    controller.abort();
  });
});
