import type { PeerCertificate, TLSSocket } from 'node:tls';
import { forLog, isMeshName } from '../mesh-name.js';

/**
 * The identity a certificate gives its holder: the last path segment of its first URI SAN
 * (`spiffe://example.org/ns/mesh/NodeB` → `NodeB`, as SPIFFE IDs and cert-manager's `uris`
 * are written), else its subject CN. Undefined when neither is a valid mesh name, so an odd
 * certificate names nobody rather than something unexpected.
 */
export function certificateName(cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'> | undefined): string | undefined {
  if (!cert) return undefined;
  const uri = firstUriSan(cert.subjectaltname);
  if (uri !== undefined) {
    const segment = lastPathSegment(uri);
    return isMeshName(segment) ? segment : undefined;
  }
  const cn = (cert.subject as Record<string, unknown> | undefined)?.CN;
  // Several CNs: ambiguous, so no name.
  return isMeshName(cn) ? cn : undefined;
}

/**
 * The name in the client certificate of a connection a TLS server accepted (the certificate
 * was verified against the CA during the TLS handshake); undefined without TLS.
 */
export function peerCertificateName(socket: unknown): string | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (typeof tls?.getPeerCertificate !== 'function' || tls.authorized !== true) return undefined;
  return certificateName(tls.getPeerCertificate());
}

/**
 * TLS mode: why the holder of a certificate naming `certName` may not go by `claimed` (names
 * escaped for logs), or undefined when it may.
 */
export function nameMismatch(certName: string | undefined, claimed: string): string | undefined {
  if (certName === claimed) return undefined;
  return `${forLog(claimed)} is not the name its certificate gives (${certName === undefined ? 'none' : forLog(certName)})`;
}

/**
 * Node writes SANs as `URI:a, DNS:b`; an entry holding a comma or a quote is written as a JSON
 * string (`URI:"a,b"`), so split on `, ` only outside quotes.
 */
function firstUriSan(san: string | undefined): string | undefined {
  if (!san) return undefined;
  for (const entry of san.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const item = entry.trim();
    if (!item.startsWith('URI:')) continue;
    const value = item.slice(4);
    if (!value.startsWith('"')) return value;
    try {
      return JSON.parse(value) as string;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function lastPathSegment(uri: string): string | undefined {
  let path: string;
  try {
    path = new URL(uri).pathname;
  } catch {
    return undefined;
  }
  const segments = path.split('/').filter((s) => s.length > 0);
  const last = segments.at(-1);
  if (last === undefined) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return undefined;
  }
}
