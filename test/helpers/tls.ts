// Certificates made at test time: a CA, server certificates it signs for
// given DNS names and IP addresses, and self-signed ones (the seed's LAN
// setup). ECDSA P-256 through @peculiar/x509 on node's WebCrypto (its default
// provider, globalThis.crypto).
//
//   const ca = await createTestCa();
//   const { certPem, keyPem } = await ca.issue(['hs1.test', '127.0.0.1']);
//
// Also: a TLS connection that shows which certificate a server presents.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { createCa, generateKeys, issueServerCertificate, privateKeyPem, serverExtensions } from '../../src/cli/tls-certificates.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** Long enough for any test run. */
const DAYS = 30;

export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

export interface TestCa extends TestCertificate {
  /** A server certificate for `names` (DNS names and IP addresses), signed by this CA. */
  issue(names: readonly string[]): Promise<TestCertificate>;
}

/** Writes `cert` as `<name>.crt` and `<name>.key` in `dir`; returns the two paths. */
export function writeCertificate(dir: string, name: string, cert: TestCertificate): { certPath: string; keyPath: string } {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  writeFileSync(certPath, cert.certPem);
  writeFileSync(keyPath, cert.keyPem, { mode: 0o600 });
  return { certPath, keyPath };
}

/** A CA made as `axon tls init-ca` makes one, issuing as `axon tls issue` does. */
export async function createTestCa(commonName = 'Axon test CA'): Promise<TestCa> {
  const ca = await createCa(commonName, Date.now(), DAYS);
  return { ...ca, issue: (names) => issueServerCertificate(ca, names, Date.now(), DAYS) };
}

/** A certificate signed by its own key, as `openssl req -x509` makes: trusted by nobody. */
export async function selfSignedCertificate(names: readonly string[]): Promise<TestCertificate> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${names[0]}`,
    keys,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + DAYS * DAY_MS),
    extensions: await serverExtensions(names, keys.publicKey),
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A TLS connection to 127.0.0.1:`port` that accepts any certificate, so the test can look at it. */
export function tlsConnect(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** GET /health over an open connection; the status line of the answer. */
export function healthOver(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('OK')) resolve(text.split('\r\n')[0]!);
    });
    socket.once('error', reject);
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
}
