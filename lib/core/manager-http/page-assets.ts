import { readFileSync } from 'node:fs';

/** The topology page: static files shipped next to this module (copied into dist/ and build/ by the build scripts). */
export interface PageAsset {
  contentType: string;
  body: string;
}

const FILES = {
  page: { file: 'topology.html', contentType: 'text/html; charset=utf-8' },
  script: { file: 'topology-page.js', contentType: 'text/javascript; charset=utf-8' },
} as const;

const cache = new Map<keyof typeof FILES, PageAsset>();

/** Read once, then served from memory. */
export function pageAsset(which: keyof typeof FILES): PageAsset {
  let asset = cache.get(which);
  if (!asset) {
    const { file, contentType } = FILES[which];
    asset = { contentType, body: readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8') };
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
