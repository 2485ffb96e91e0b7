/**
 * Certificates made at test time with the `openssl` command line, in a temporary directory
 * that `remove()` deletes: CAs, and leaf certificates (client and server use) naming a worker
 * by URI SAN (`spiffe://example.org/<name>`) or by CN only.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  name: string;
  cert: string;
  keyPath: string;
  certPath: string;
}

export interface TestLeaf {
  key: string;
  cert: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export class TestCertificates {
  readonly dir = mkdtempSync(join(tmpdir(), 'socket-mesh-tls-'));
  private n = 0;

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  ca(name: string): TestCa {
    const keyPath = join(this.dir, `${name}.key`);
    const certPath = join(this.dir, `${name}.crt`);
    this.openssl([
      'req', '-x509', ...EC, '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]); // prettier-ignore
    return { name, cert: readFileSync(certPath, 'utf8'), keyPath, certPath };
  }

  /** `uri`: a URI SAN (the name is its last segment); without it the certificate names its holder by CN only. */
  leaf(ca: TestCa, subject: { cn: string; uri?: string }): TestLeaf {
    const base = join(this.dir, `leaf-${++this.n}`);
    const ext = [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(subject.uri ? [`subjectAltName=URI:${subject.uri}`] : []),
    ].join('\n');
    writeFileSync(`${base}.ext`, `${ext}\n`);
    this.openssl(['req', '-new', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${subject.cn}`]);
    this.openssl([
      'x509', '-req', '-in', `${base}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath,
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-out', `${base}.crt`, '-extfile', `${base}.ext`,
    ]); // prettier-ignore
    return { key: readFileSync(`${base}.key`, 'utf8'), cert: readFileSync(`${base}.crt`, 'utf8') };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
