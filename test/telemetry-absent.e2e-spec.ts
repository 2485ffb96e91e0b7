/**
 * Without OpenTelemetry the library loads nothing of it: the main entry and 'socket-mesh/plain'
 * never import '@opentelemetry/*' statically, and a node starting in a process where nothing
 * registered an OpenTelemetry SDK does not even try (installed or not), then calls work as usual.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from './support/mesh-process.js';

interface Probe {
  afterImport: { hooks: string[]; required: string[] };
  afterCall: { hooks: string[]; required: string[] };
  answer?: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'otel-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probe(env: Record<string, string>): Promise<Probe> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'build', 'test', 'fixtures', 'otel-probe.js')], {
    env: { ...process.env, NODE_OPTIONS: '', OTEL_PROBE_LOG: join(dir, `${Object.values(env).join('-')}.log`), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`probe exited ${code}: ${err}${out}`));
      resolve(JSON.parse(line) as Probe);
    });
  });
}

describe('without OpenTelemetry', () => {
  it('importing the main entry and socket-mesh/plain loads no @opentelemetry module', async () => {
    const result = await probe({ OTEL_PROBE_CALL: '0', OTEL_PROBE_BLOCK: '0' });
    expect(result.afterImport).toEqual({ hooks: [], required: [] });
  });

  it('a node started with @opentelemetry/api unresolvable does not try it, and calls work', async () => {
    const result = await probe({ OTEL_PROBE_CALL: '1', OTEL_PROBE_BLOCK: '1' });
    expect(result.answer).toBe('pong');
    expect(result.afterImport.hooks).toEqual([]);
    expect(result.afterCall).toEqual({ hooks: [], required: [] });
  });

  it('with the API installed but no SDK registered, a node loads nothing of it and calls work', async () => {
    const result = await probe({ OTEL_PROBE_CALL: '1', OTEL_PROBE_BLOCK: '0' });
    expect(result.answer).toBe('pong');
    // An SDK registers under the API's global symbol; without one, spans and instruments would be no-ops.
    expect(result.afterCall).toEqual({ hooks: [], required: [] });
  });
});
