/**
 * The README's Quick start compiles as written: every ```ts block under "## Quick start" that
 * starts with `// file: <path>` is written to that path and the whole set is type-checked with
 * the project's compiler options, 'socket-mesh' resolving to this checkout's sources.
 * (scripts/pack-check.sh compiles the same files against the packed tarball.)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');

/** The Quick start's files: path → text, in README order. */
export function quickStartFiles(readme: string): Map<string, string> {
  const section = readme.split(/^## Quick start.*$/m)[1]?.split(/^## /m)[0] ?? '';
  const files = new Map<string, string>();
  for (const match of section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const [first, ...rest] = match[1].split('\n');
    const path = /^\/\/ file: (\S+)$/.exec(first)?.[1];
    if (path) files.set(path, rest.join('\n'));
  }
  return files;
}

describe('README Quick start', () => {
  const dir = join(ROOT, 'build', `readme-quickstart-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles verbatim', () => {
    const files = quickStartFiles(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect([...files.keys()]).toEqual(['keys.ts', 'manager/main.ts', 'node-b/contract.ts', 'node-b/main.ts', 'node-a/main.ts']);
    for (const [path, text] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // A package.json with "type": "module", as a Nest 12 (ESM) app has: top-level await is allowed.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      paths: { 'socket-mesh': [join(ROOT, 'lib', 'index.ts')] },
    };
    const program = ts.createProgram(
      [...files.keys()].map((path) => join(dir, path)),
      options,
    );
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + ` (${d.file?.fileName.slice(dir.length + 1) ?? ''})`);
    expect(diagnostics).toEqual([]);
  }, 120_000);
});
