// Certificates made at test time: a CA, server certificates it signs for
// given DNS names and IP addresses, and self-signed ones (the seed's LAN
// setup). ECDSA P-256 through @peculiar/x509 on node's WebCrypto (its default
// provider, globalThis.crypto).
//
//   const ca = await createTestCa();
//   const { certPem, keyPem } = await ca.issue(['hs1.test', '127.0.0.1']);
//
// Also: a TLS connection that shows which certificate a server presents.
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

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

export async function createTestCa(commonName = 'Axon test CA'): Promise<TestCa> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${commonName}`,
      keys,
      signingAlgorithm: ALGORITHM,
      ...validity(),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    }
  );
  return {
    certPem: cert.toString('pem'),
    keyPem: await privateKeyPem(keys.privateKey),
    issue: async (names) => {
      const leafKeys = await generateKeys();
      const leaf = await x509.X509CertificateGenerator.create(
        {
          subject: `CN=${names[0]}`,
          issuer: cert.subject,
          publicKey: leafKeys.publicKey,
          signingKey: keys.privateKey,
          signingAlgorithm: ALGORITHM,
          ...validity(),
          extensions: [...(await serverExtensions(names, leafKeys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(cert, false)],
        }
      );
      return { certPem: leaf.toString('pem'), keyPem: await privateKeyPem(leafKeys.privateKey) };
    },
  };
}

/** A certificate signed by its own key, as `openssl req -x509` makes: trusted by nobody. */
export async function selfSignedCertificate(names: readonly string[]): Promise<TestCertificate> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: `CN=${names[0]}`, keys, signingAlgorithm: ALGORITHM, ...validity(), extensions: await serverExtensions(names, keys.publicKey) }
  );
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 30 * DAY_MS) };
}

async function serverExtensions(names: readonly string[], publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: isIP(value) === 0 ? 'dns' : 'ip', value }))),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false),
  ];
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
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
