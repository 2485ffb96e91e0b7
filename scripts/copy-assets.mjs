// Copies the files tsc does not emit (the topology page) next to the compiled modules:
//   node scripts/copy-assets.mjs <outDir for lib/>   (dist, or build/lib)
import { cpSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/copy-assets.mjs <outDir>');
  process.exit(2);
}
const dir = 'core/manager-http/assets';
cpSync(join('lib', dir), join(out, dir), { recursive: true });
