// How outbound federation connections check certificates
// (server-server-api.md, "TLS"): against the system's CAs plus
// federation_custom_ca_list, for the name discovery says the certificate must
// carry, with SNI for host names and none for IP literals. Verification can
// be switched off for test networks (federation_verify_certificates: false)
// or for some hosts (federation_certificate_verification_whitelist, globs
// matched as Synapse matches them).
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, rootCertificates, type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import { globMatchesWhole } from '../core/push-rules/glob.js';

export interface TlsPolicyOptions {
  verifyCertificates: boolean;
  /** Globs of host names whose certificates are not checked. */
  verificationWhitelist?: readonly string[];
  /** Extra CA certificates (PEM blocks) trusted on top of the system's. */
  customCas?: readonly string[];
}

/**
 * The operating system's CA bundle, where the usual distributions keep it.
 * Node trusts only its own copy of Mozilla's list; adding the system's means
 * a LAN CA installed with update-ca-certificates is trusted as an operator
 * expects.
 */
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

function systemCas(): string[] {
  const bundle = SYSTEM_CA_BUNDLES.find((path) => existsSync(path));
  return bundle === undefined ? [] : [readFileSync(bundle, 'utf8')];
}

/**
 * Parsing a few hundred CA certificates takes a good part of a second, so a
 * context is built once per process and set of extra CAs (servers started
 * together in tests share one), at the first connection rather than at start.
 */
const contexts = new Map<string, SecureContext>();

function trustContext(customCas: readonly string[]): SecureContext {
  const key = customCas.join('\n');
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, ...systemCas(), ...customCas] });
    contexts.set(key, context);
  }
  return context;
}

/** The TLS options of one connection, for node:https. */
export type TlsConnectOptions = Pick<ConnectionOptions, 'secureContext' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity'>;

export class TlsPolicy {
  constructor(private readonly options: TlsPolicyOptions) {}

  /** Whether certificates for `certificateName` are checked. */
  verifies(certificateName: string): boolean {
    if (!this.options.verifyCertificates) return false;
    return !(this.options.verificationWhitelist ?? []).some((glob) => globMatchesWhole(glob, certificateName));
  }

  /**
   * Options for a connection whose certificate must be valid for
   * `certificateName` (a host name, or an IP address for IP literals),
   * whatever address the connection goes to.
   */
  connectOptions(certificateName: string): TlsConnectOptions {
    const verify = this.verifies(certificateName);
    return {
      secureContext: trustContext(this.options.customCas ?? []),
      rejectUnauthorized: verify,
      // "A SNI should be sent for the certificate which is expected, unless
      // that certificate is expected to be an IP address" ('' stops node:https
      // from deriving one from the Host header).
      servername: isIP(certificateName) === 0 ? certificateName : '',
      checkServerIdentity: (_host: string, cert: PeerCertificate) => (verify ? checkServerIdentity(certificateName, cert) : undefined),
    };
  }
}
