import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** The CA that signed `server` and `client`. */
  ca: string;
  /** A CA that signed nothing here: trusting it must fail. */
  otherCa: string;
  server: { key: string; cert: string };
  /** A client certificate for `CN=<clientName>, O=<clientGroup>`. */
  client: { key: string; cert: string };
}

/**
 * A throwaway PKI made with the openssl CLI (P-256, valid one day): a server
 * certificate for 127.0.0.1/localhost and a client certificate, both under
 * one CA. The private keys never leave memory after this returns.
 */
export function makeTestPki(clientName = 'qg-test-user', clientGroup = 'qg-testers'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'qg-peers-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const newCa = (name: string) =>
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-subj', `/CN=quorumgate ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const leaf = (name: string, subject: string, ext: string, serial: string) => {
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject);
    writeFileSync(file(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-set_serial', serial,
      '-days', '1', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`));
  };
  try {
    newCa('ca');
    newCa('other-ca');
    leaf('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n', '2');
    leaf('client', `/O=${clientGroup}/CN=${clientName}`, 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n', '3');
    const read = (name: string) => readFileSync(file(name), 'utf8');
    return {
      ca: read('ca.pem'),
      otherCa: read('other-ca.pem'),
      server: { key: read('server.key'), cert: read('server.pem') },
      client: { key: read('client.key'), cert: read('client.pem') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
