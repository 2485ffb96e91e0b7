import { existsSync, readFileSync } from 'node:fs';

/** The topology page: static files copied by scripts/copy-assets.mjs to `<lib root>/core/manager-http/assets/` (dist/, build/lib/). */
export interface PageAsset {
  contentType: string;
  body: string;
}

const FILES = {
  page: { file: 'topology.html', contentType: 'text/html; charset=utf-8' },
  script: { file: 'topology-page.js', contentType: 'text/javascript; charset=utf-8' },
} as const;

const cache = new Map<keyof typeof FILES, PageAsset>();

// Where this code runs from: tsc's layout keeps it in core/manager-http/ next to assets/; the
// published bundle moves it into a chunk (dist/chunks/, or an entry in dist/ or dist/cli/),
// so the lookup also tries the lib root as seen from each of those.
const DIRS = ['./assets/', '../core/manager-http/assets/', './core/manager-http/assets/'];

function assetUrl(file: string): URL {
  const urls = DIRS.map((dir) => new URL(dir + file, import.meta.url));
  return urls.find((url) => existsSync(url)) ?? urls[0]!;
}

/** Read once, then served from memory. */
export function pageAsset(which: keyof typeof FILES): PageAsset {
  let asset = cache.get(which);
  if (!asset) {
    const { file, contentType } = FILES[which];
    asset = { contentType, body: readFileSync(assetUrl(file), 'utf8') };
    cache.set(which, asset);
  }
  return asset;
}

/** Security headers for the page: it loads nothing but its own script and talks only to its own origin. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};
