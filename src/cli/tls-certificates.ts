// Certificates for servers on a LAN: a small CA and the server certificates
// it signs, ECDSA P-256 through @peculiar/x509 on node's WebCrypto. Used by
// `axon tls` (and by the tests' certificates, which are made the same way).
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** A LAN CA outlives its servers' certificates. */
const CA_DAYS = 10 * 365;
/** The longest lifetime clients commonly accept for a server certificate. */
const SERVER_DAYS = 825;
/** Certificates start a day early, so a peer whose clock lags a little still accepts them. */
const CLOCK_SLACK_MS = DAY_MS;

export interface CertificatePems {
  certPem: string;
  keyPem: string;
}

/** A self-signed CA certificate that may sign server certificates (and no further CAs). */
export async function createCa(commonName: string, now = Date.now(), days = CA_DAYS): Promise<CertificatePems> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    ...validity(now, days),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A server certificate for `names` (DNS names and IP addresses, the first one its CN), signed by `ca`. */
export async function issueServerCertificate(ca: CertificatePems, names: readonly string[], now = Date.now(), days = SERVER_DAYS): Promise<CertificatePems> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${names[0]}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    ...validity(now, days),
    extensions: [...(await serverExtensions(names, keys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(caCert, false)],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** What makes a certificate a server's: TLS server use, and its names in subjectAltName (DNS names and IP addresses). */
export async function serverExtensions(names: readonly string[], publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: isIP(value) === 0 ? 'dns' : 'ip', value }))),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false),
  ];
}

export async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function validity(now: number, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - CLOCK_SLACK_MS), notAfter: new Date(now + days * DAY_MS) };
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) PRIVATE KEY-----|\s/g, ''), 'base64');
  try {
    return await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  } catch {
    throw new Error('the CA key is not a PKCS#8 P-256 key (as axon tls init-ca makes)');
  }
}
