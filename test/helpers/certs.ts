/** Test PKI made with the openssl CLI: CAs, a server certificate for 127.0.0.1/localhost, client certificates. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Pki {
  readonly dir: string;
  /** Creates a self-signed CA: returns its cert and key paths. */
  ca(name: string): { cert: string; key: string };
  /** Issues a certificate signed by `ca`; `server` adds SANs for 127.0.0.1 and localhost. */
  issue(name: string, ca: { cert: string; key: string }, server: boolean): { cert: string; key: string };
}

export function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  return {
    dir,
    ca(name) {
      const key = path.join(dir, `${name}.key`);
      const cert = path.join(dir, `${name}.crt`);
      run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`);
      return { cert, key };
    },
    issue(name, ca, server) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.crt`);
      const ext = path.join(dir, `${name}.ext`);
      fs.writeFileSync(
        ext,
        server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n',
      );
      run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`);
      run('x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
      return { cert, key };
    },
  };
}
