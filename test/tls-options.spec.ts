/**
 * The `tls` option of both fronts and the names certificates give, with certificates made by
 * `openssl` at test time (removed afterwards).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MeshErrorCode } from '../lib/core/errors.js';
import { resolveManagerOptions as resolvePlainManager } from '../lib/core/options/manager-options.js';
import { resolveSocketNodeOptions } from '../lib/core/options/socket-node-options.js';
import { certificateName } from '../lib/core/tls/certificate-identity.js';
import { ownCertificateName } from '../lib/core/tls/tls-options.js';
import { resolveManagerOptions as resolveNestManager, resolveWorkerOptions } from '../lib/nest/socket-mesh.options.js';
import { REPO_ROOT, TEST_KEYS } from './support/mesh-process.js';
import { TestCertificates, type TestCa, type TestLeaf } from './support/test-certificates.js';

describe('certificateName', () => {
  const cert = (subjectaltname: string | undefined, CN?: string | string[]) =>
    ({ subjectaltname, subject: CN === undefined ? {} : { CN } }) as Parameters<typeof certificateName>[0];

  it('takes the last path segment of the first URI SAN', () => {
    expect(certificateName(cert('URI:spiffe://example.org/NodeB', 'other'))).toBe('NodeB');
    expect(certificateName(cert('DNS:node-b.svc, URI:spiffe://example.org/ns/mesh/sa/NodeB/'))).toBe('NodeB');
    expect(certificateName(cert('URI:spiffe://example.org/NodeA, URI:spiffe://example.org/NodeB'))).toBe('NodeA');
    // Node writes an entry with a comma as a JSON string.
    expect(certificateName(cert('DNS:"a,b", URI:spiffe://example.org/NodeC'))).toBe('NodeC');
    expect(certificateName(cert('URI:"spiffe://example.org/x,y/NodeD"'))).toBe('NodeD');
  });

  it('falls back to a single CN when there is no URI SAN', () => {
    expect(certificateName(cert(undefined, 'NodeB'))).toBe('NodeB');
    expect(certificateName(cert('DNS:node-b.svc, IP Address:10.0.0.5', 'NodeB'))).toBe('NodeB');
  });

  it('names nobody for anything that is not a mesh name', () => {
    expect(certificateName(undefined)).toBeUndefined();
    expect(certificateName(cert(undefined))).toBeUndefined();
    expect(certificateName(cert(undefined, ['NodeA', 'NodeB']))).toBeUndefined();
    expect(certificateName(cert(undefined, 'Node B\nINJECTED'))).toBeUndefined();
    expect(certificateName(cert('URI:spiffe://example.org/', 'NodeB'))).toBeUndefined();
    expect(certificateName(cert('URI:spiffe://example.org/a%0Ab', 'NodeB'))).toBeUndefined();
    expect(certificateName(cert('URI:not a uri', 'NodeB'))).toBeUndefined();
  });
});

describe('the tls option', () => {
  let certs: TestCertificates;
  let ca: TestCa;
  let other: TestCa;
  let nodeA: TestLeaf;
  let cnOnly: TestLeaf;
  let nobody: TestLeaf;

  beforeAll(() => {
    certs = new TestCertificates();
    ca = certs.ca('spec-ca');
    other = certs.ca('spec-ca-2');
    nodeA = certs.leaf(ca, { cn: 'ignored', uri: 'spiffe://example.org/NodeA' });
    cnOnly = certs.leaf(ca, { cn: 'NodeB' });
    nobody = certs.leaf(ca, { cn: 'not a name' });
  }, 30_000);

  afterAll(() => {
    const dir = certs.dir;
    certs.remove();
    expect(existsSync(dir)).toBe(false);
  });

  const schema = { NodeA: { _connect: ['NodeB'] }, NodeB: {} };
  const node = (tls: unknown) => resolveSocketNodeOptions({ worker: 'NodeA', schema, ...TEST_KEYS, port: 4000, tls });
  const error = (fn: () => unknown): { code?: string; message: string } => {
    try {
      fn();
    } catch (err) {
      return err as { code?: string; message: string };
    }
    throw new Error('expected a throw');
  };

  it('reads its own certificate name (URI SAN, else CN)', () => {
    expect(ownCertificateName(nodeA)).toBe('NodeA');
    expect(ownCertificateName(cnOnly)).toBe('NodeB');
    expect(ownCertificateName(nobody)).toBeUndefined();
  });

  it('is accepted by both fronts, as a string, a Buffer, a bundle or a list of CAs', () => {
    const tls = { key: nodeA.key, cert: nodeA.cert, ca: ca.cert };
    expect(node(tls).node.tls).toEqual(tls);
    const buffers = { key: Buffer.from(nodeA.key), cert: Buffer.from(nodeA.cert), ca: [ca.cert, other.cert] };
    expect(node(buffers).node.tls).toEqual(buffers);
    expect(node({ ...tls, ca: ca.cert + other.cert, managerName: 'mesh-manager' }).node.tls?.managerName).toBe('mesh-manager');
    expect(resolveWorkerOptions('NodeA', { manager: { host: 'm', port: 4000 }, ...TEST_KEYS, tls }).tls).toEqual(tls);
    expect(resolvePlainManager({ ...TEST_KEYS, port: 0, tls }).tls).toEqual(tls);
    expect(resolveNestManager({ ...TEST_KEYS, tls }).tls).toEqual(tls);
    // Absent: the shared-key mode, no TLS.
    expect(node(undefined).node.tls).toBeUndefined();
  });

  it('refuses incomplete or broken settings with MESH_SCHEMA_INVALID naming the field, never echoing the key', () => {
    const e1 = error(() => node({ key: nodeA.key, cert: nodeA.cert }));
    expect(e1.code).toBe(MeshErrorCode.SCHEMA_INVALID);
    expect(e1.message).toContain("option 'tls.ca' is required");
    const notPem = error(() => node({ key: 'secret-key-material', cert: nodeA.cert, ca: ca.cert }));
    expect(notPem.message).toContain("option 'tls.key' must be a PEM string or Buffer, got a string");
    expect(notPem.message).not.toContain('secret-key-material');
    expect(error(() => node({ key: nodeA.key, cert: nodeA.cert, ca: [] })).message).toContain("option 'tls.ca'");
    expect(error(() => node({ key: nodeA.key, cert: nodeA.cert, ca: ca.cert, crt: 'x' })).message).toContain(
      "unknown option 'tls.crt'",
    );
    // A key that is not the certificate's: refused at start, with OpenSSL's reason and without the key.
    const mismatch = error(() => node({ key: cnOnly.key, cert: nodeA.cert, ca: ca.cert }));
    expect(mismatch.message).toContain("option 'tls.key' must be a key, certificate and CA that load together");
    expect(mismatch.message).not.toContain('PRIVATE KEY');
    expect(mismatch.message).not.toContain(cnOnly.key.split('\n')[1]);
    expect(error(() => node({ key: nobody.key, cert: nobody.cert, ca: ca.cert })).message).toContain(
      "option 'tls.cert' must be a certificate naming its holder",
    );
    expect(error(() => node({ key: nodeA.key, cert: nodeA.cert, ca: ca.cert, managerName: 'a b' })).message).toContain(
      "option 'tls.managerName'",
    );
  });
});

describe('without TLS', () => {
  it("importing 'socket-mesh/plain' loads neither node:tls nor node:https (they cost ~8 ms; only TLS mode loads them)", () => {
    const entry = join(REPO_ROOT, 'build', 'lib', 'plain.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build:all\``);
    const script = `await import(${JSON.stringify(entry)}); console.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (_?tls|https)/.test(m))))`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual([]);
  });
});
