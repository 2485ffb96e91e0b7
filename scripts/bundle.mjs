// Bundles the tsc output of lib/ into dist/ (run by `npm run build` after tsc):
//   node scripts/bundle.mjs <tsc JS dir> <outDir>
// The input is tsc's JS, not the TS sources: esbuild does not emit `emitDecoratorMetadata`,
// which Nest's dependency injection reads. One call for every entry point so code shared by
// two entries lands in one shared chunk (one MeshError class, one SocketMeshModule, one set of
// DI tokens whichever entry a user imports). Packages stay imports (`import()` of the optional
// ones stays lazy). Why bundle at all: module loading was nearly all of start-up (bench/README).
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/bundle.mjs <tsc JS dir> <outDir>');
  process.exit(2);
}
const entries = ['index', 'plain', 'testing', 'terminus', 'cli/main'];
await build({
  entryPoints: entries.map((e) => ({ in: join(src, `${e}.js`), out: e })),
  outdir: out,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Class names show in logs and errors, and Nest reads constructor names (logger contexts,
  // module tokens): renaming a clashing top-level class must not change its `.name`.
  keepNames: true,
  // Readable stack traces matter more than a few kB.
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
});
// esbuild keeps the entry's shebang; the executable bit is ours to set.
chmodSync(join(out, 'cli/main.js'), 0o755);
