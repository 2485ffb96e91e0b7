import { X509Certificate } from 'node:crypto';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { forLog, isMeshName, MESH_NAME_RULE } from '../mesh-name.js';
import type { OptionReader } from '../options/option-reader.js';
import { certificateName } from './certificate-identity.js';

/** PEM text, or its bytes. */
export type Pem = string | Buffer;

/**
 * Identities with TLS (opt-in): every link runs over TLS with a certificate on both ends, and
 * a worker's name is the one its certificate gives (the last segment of a URI SAN, else the CN).
 */
export interface MeshTlsOptions {
  /** This node's private key (PEM). */
  key: Pem;
  /** This node's certificate (PEM), with its intermediates if any. */
  cert: Pem;
  /** The CA(s) whose certificates this node accepts: one PEM, a bundle, or a list (old and new, during a CA rotation). */
  ca: Pem | Pem[];
  /** The name the manager's certificate must give (default 'manager'). Workers only. */
  managerName?: string;
}

const TLS_KEYS = ['key', 'cert', 'ca', 'managerName'] as const;
const DEFAULT_MANAGER_NAME = 'manager';

const isPem = (value: unknown): value is Pem =>
  Buffer.isBuffer(value) || (typeof value === 'string' && value.includes('-----BEGIN '));

/**
 * `tls: { key, cert, ca, managerName? }`, checked: PEM values that load together (a key that
 * does not match its certificate fails here, at start, not at the first connection) and a
 * certificate that names someone. Never echoes the key.
 */
export function readTlsOptions(parent: OptionReader): MeshTlsOptions | undefined {
  const r = parent.nested('tls');
  if (r === undefined) return undefined;
  r.checkKeys(TLS_KEYS);
  for (const field of ['key', 'cert'] as const) {
    if (!r.has(field)) r.missing(field, 'a PEM string or Buffer');
    if (!isPem(r.raw(field))) r.fail(field, 'a PEM string or Buffer');
  }
  const key = r.raw('key') as Pem;
  const cert = r.raw('cert') as Pem;
  if (!r.has('ca')) r.missing('ca', 'the CA certificate(s) as PEM: one, a bundle, or a list');
  const caRaw = r.raw('ca');
  const caList = Array.isArray(caRaw) ? caRaw : [caRaw];
  if (caList.length === 0 || !caList.every(isPem)) r.fail('ca', 'a PEM string or Buffer, a bundle, or a list of them');
  const ca = caRaw as Pem | Pem[];
  const managerName = r.optionalString('managerName');
  if (managerName !== undefined && !isMeshName(managerName)) r.fail('managerName', `a name (${MESH_NAME_RULE})`);
  try {
    // node:tls is loaded only when TLS is configured (its import costs every process ~8 ms).
    process.getBuiltinModule('node:tls').createSecureContext({ key, cert, ca });
  } catch (err) {
    // OpenSSL's reason only ("key values mismatch", "no start line"): never the PEM itself.
    const reason = (err as Error).message.replace(/-----BEGIN[\s\S]*$/, '').slice(0, 200);
    r.fail('key', `a key, certificate and CA that load together (${reason})`);
  }
  if (ownCertificateName({ cert }) === undefined) {
    r.fail('cert', `a certificate naming its holder (a URI SAN whose last segment, or else a CN, is ${MESH_NAME_RULE})`);
  }
  const tls: MeshTlsOptions = { key, cert, ca };
  if (managerName !== undefined) tls.managerName = managerName;
  return tls;
}

/** The name this node's own certificate gives it (the first certificate of `cert`: the leaf). */
export function ownCertificateName(tls: Pick<MeshTlsOptions, 'cert'>): string | undefined {
  let x: X509Certificate;
  try {
    x = new X509Certificate(tls.cert);
  } catch {
    return undefined;
  }
  // X509Certificate gives the subject as lines of text; build the PeerCertificate fields read by certificateName.
  const cns = x.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  return certificateName({
    subject: (cns.length === 1 ? { CN: cns[0] } : {}) as PeerCertificate['subject'],
    subjectaltname: x.subjectAltName ?? '',
  });
}

/** The TLS side of a socket server: its certificate, and client certificates required and verified. */
export function serverTlsOptions(tls: MeshTlsOptions, handshakeTimeout: number): HttpsServerOptions {
  return {
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ...(handshakeTimeout > 0 && Number.isFinite(handshakeTimeout) ? { handshakeTimeout: Math.ceil(handshakeTimeout) } : {}),
  };
}

/** What a dialer passes to socket.io-client: its certificate, the CA, and the name the other side's certificate must give. */
export interface ClientTlsOptions {
  key: Pem;
  cert: Pem;
  ca: Pem | Pem[];
  rejectUnauthorized: true;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * `expected`: the worker name being dialed, or the manager's name. The host name is not
 * checked: peers are dialed at the addresses the manager lists (often pod IPs), and a mesh
 * identity (a SPIFFE ID) carries no host name. The certificate's name is what is checked.
 */
export function clientTlsOptions(tls: MeshTlsOptions, expected: string): ClientTlsOptions {
  return {
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => {
      const name = certificateName(cert);
      if (name === expected) return undefined;
      return Object.assign(
        new Error(`the certificate names ${name === undefined ? 'no mesh identity' : `'${name}'`}, expected '${expected}'`),
        { code: 'ERR_MESH_IDENTITY' },
      );
    },
  };
}

export function managerNameOf(tls: MeshTlsOptions): string {
  return tls.managerName ?? DEFAULT_MANAGER_NAME;
}

/**
 * Why `worker` will be refused under these TLS options (its certificate names someone else),
 * or undefined: the manager and every callee go by the certificate, so a node says so at once.
 */
export function certificateNameWarning(tls: MeshTlsOptions | undefined, worker: string): string | undefined {
  if (!tls) return undefined;
  const certName = ownCertificateName(tls);
  if (certName === worker) return undefined;
  return `the TLS certificate names ${forLog(certName ?? '(nobody)')}, not ${forLog(worker)}: the manager will refuse this worker`;
}
