// One outbound HTTPS exchange with another server, under our policies: the
// IP ranges are checked on every address a name resolves to (a custom
// `lookup`, so nothing connects to a blocked address however the name was
// found), certificates per the TLS policy, a deadline for the whole
// exchange and a cap on the response size. Failures become FederationErrors
// that say which phase failed and why.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect, type DetailedPeerCertificate } from 'node:tls';
import type { IpPolicy } from '../core/ip-policy.js';
import type { FederationTarget } from './discovery.js';
import { FederationError, ResponseTooLargeError } from './errors.js';
import type { TlsPolicy } from './tls-policy.js';

export interface OutboundRequest {
  /** The server name the request is for (for messages). */
  destination: string;
  target: FederationTarget;
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Keep-alive pool to use; none: a connection of its own. */
  agent?: Agent;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Responses larger than this fail with kind 'response'. */
  maxBytes: number;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An address refused by the IP ranges, raised from inside `lookup`. */
class BlockedAddressError extends Error {
  readonly code = 'EAXONBLOCKED';
}

/**
 * OpenSSL's certificate verification failures, as node reports them (node's
 * own checks add ERR_TLS_CERT_ALTNAME_INVALID).
 */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

type Phase = 'connecting' | 'waiting for the response' | 'reading the response';

/** One certificate of the chain a server presented, leaf first. */
export interface PresentedCertificate {
  subject: string;
  issuer: string;
  /** subjectAltName as node formats it, e.g. "DNS:hs1.test, IP Address:127.0.0.1". */
  subjectAltName?: string;
  validFrom: string;
  validTo: string;
}

/** What a TLS handshake with a target showed, whether or not the certificate is trusted. */
export interface TlsProbe {
  /** The address and port the connection went to (after our lookup and IP ranges). */
  address: string;
  port: number;
  protocol: string | null;
  chain: PresentedCertificate[];
  /** Whether our policy checks this certificate at all (federation_verify_certificates, the verification whitelist). */
  verified: boolean;
  /**
   * Why the certificate would be refused, in the words of the request path
   * (describeError), or undefined when it is accepted.
   */
  problem?: FederationError;
}

export class OutboundConnector {
  /** Resolves through the system resolver (so /etc/hosts counts), then drops blocked addresses. */
  readonly lookup: LookupFunction;

  constructor(
    private readonly tls: TlsPolicy,
    private readonly ipPolicy: IpPolicy,
  ) {
    this.lookup = (hostname, options, callback) => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const allowed = addresses.filter((a) => !this.ipPolicy.isBlocked(a.address));
        if (allowed.length === 0) {
          return callback(new BlockedAddressError(blockedMessage(hostname, addresses.map((a) => a.address))), '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
        callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
  }

  send(r: OutboundRequest): Promise<OutboundResponse> {
    const { target } = r;
    if (isIP(target.host) !== 0 && this.ipPolicy.isBlocked(target.host)) {
      return Promise.reject(new FederationError('refused', r.destination, `not connecting to ${r.destination}: ${blockedMessage(target.host, [target.host])}`));
    }
    return new Promise((resolve, reject) => {
      let phase: Phase = 'connecting';
      let settled = false;
      const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
      const finish = (): void => {
        settled = true;
        clearTimeout(timer);
        r.signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: FederationError): void => {
        if (settled) return;
        finish();
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new FederationError('timeout', r.destination, `${r.destination} (${where}) did not answer within ${r.timeoutMs} ms (timed out ${phase})`)),
        r.timeoutMs,
      );
      const onAbort = (): void => fail(new FederationError('aborted', r.destination, `the request to ${r.destination} was cancelled`));
      r.signal?.addEventListener('abort', onAbort, { once: true });

      const req = httpsRequest({
        host: target.host,
        port: target.port,
        method: r.method,
        path: r.path,
        headers: { ...r.headers, Host: target.hostHeader, ...(r.body ? { 'Content-Length': String(r.body.length) } : {}) },
        agent: r.agent ?? false,
        lookup: this.lookup,
        ...this.tls.connectOptions(target.certificateName),
      });
      req.on('socket', (socket: Socket) => {
        // A pooled keep-alive socket is connected already.
        if (!socket.connecting) phase = 'waiting for the response';
        else socket.once('secureConnect', () => (phase = 'waiting for the response'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => fail(describeError(err, r, where, phase)));
      req.on('response', (res) => {
        phase = 'reading the response';
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > r.maxBytes) {
            fail(new ResponseTooLargeError(r.destination, r.maxBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          finish();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) });
        });
        res.on('error', (err: Error) => fail(new FederationError('response', r.destination, `the response from ${r.destination} was cut short: ${err.message}`)));
        res.on('aborted', () => fail(new FederationError('response', r.destination, `the response from ${r.destination} was cut short`)));
      });
      if (r.signal?.aborted) onAbort();
      else req.end(r.body);
    });
  }

  /**
   * A TLS handshake with `target` under the same lookup, IP ranges, trust
   * store, SNI and name check as requests, but completed even when the
   * certificate is refused, so that `axon doctor` can show what the server
   * presented and why we refuse it. Throws FederationError when there is no
   * handshake at all (blocked address, no connection, not TLS).
   */
  probeTls(destination: string, target: FederationTarget, timeoutMs: number): Promise<TlsProbe> {
    const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const describe = (err: NodeJS.ErrnoException, phase: Phase): FederationError =>
      describeError(err, { destination, target, method: 'GET', path: '/', headers: {}, timeoutMs, maxBytes: 0 }, where, phase);
    if (isIP(target.host) !== 0 && this.ipPolicy.isBlocked(target.host)) {
      return Promise.reject(new FederationError('refused', destination, `not connecting to ${destination}: ${blockedMessage(target.host, [target.host])}`));
    }
    const policy = this.tls.connectOptions(target.certificateName);
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: target.host,
        port: target.port,
        lookup: this.lookup,
        ...policy,
        // Completed even when refused: the verdict is computed below, as the request path would.
        rejectUnauthorized: false,
        ...(policy.servername === '' ? { servername: undefined } : {}),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new FederationError('timeout', destination, `${destination} (${where}) did not complete a TLS handshake within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(describe(err, 'connecting'));
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const chain = presentedChain(socket.getPeerCertificate(true));
        const verified = policy.rejectUnauthorized === true;
        // node ran the policy's name check too; what failed is left as a code (authorizationError).
        const code = socket.authorized ? undefined : String(socket.authorizationError);
        const problem = verified && code !== undefined ? describe(Object.assign(new Error('verification failed'), { code }), 'connecting') : undefined;
        resolve({ address: socket.remoteAddress ?? target.host, port: socket.remotePort ?? target.port, protocol: socket.getProtocol(), chain, verified, problem });
        socket.end();
      });
    });
  }
}

/** The chain as presented, leaf first, stopping where a certificate names itself as issuer. */
function presentedChain(leaf: DetailedPeerCertificate): PresentedCertificate[] {
  const chain: PresentedCertificate[] = [];
  const seen = new Set<string>();
  for (let cert: DetailedPeerCertificate | undefined = leaf; cert && cert.raw && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    chain.push({
      subject: distinguishedName(cert.subject),
      issuer: distinguishedName(cert.issuer),
      ...(cert.subjectaltname ? { subjectAltName: cert.subjectaltname } : {}),
      validFrom: cert.valid_from,
      validTo: cert.valid_to,
    });
  }
  return chain;
}

function distinguishedName(name: Partial<Record<string, string | string[]>> | undefined): string {
  return Object.entries(name ?? {})
    .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${[value].flat().join('+')}`)
    .join(', ');
}

function blockedMessage(hostname: string, addresses: string[]): string {
  const which = isIP(hostname) !== 0 ? hostname : `${hostname} (${addresses.join(', ')})`;
  return (
    `${which} is in a blocked IP range (ip_range_blacklist, or federation_ip_range_blacklist when set; ` +
    `by default every private network is blocked); to allow it, add its range to ip_range_whitelist, e.g. ip_range_whitelist: ['${addresses[0]}/${isIP(addresses[0]!) === 6 ? 128 : 32}']`
  );
}

function describeError(err: NodeJS.ErrnoException, r: OutboundRequest, where: string, phase: Phase): FederationError {
  const to = `${r.destination} (${where})`;
  const code = err.code ?? '';
  if (err instanceof BlockedAddressError) return new FederationError('refused', r.destination, `not connecting to ${r.destination}: ${err.message}`);
  if (CERTIFICATE_ERRORS.has(code)) {
    return new FederationError(
      'tls',
      r.destination,
      `the TLS certificate of ${to} is not trusted: ${err.message} [${code}]; add the CA that signed it to federation_custom_ca_list ` +
        `(or, on a test network only, list ${r.target.certificateName} in federation_certificate_verification_whitelist or set federation_verify_certificates: false)`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new FederationError(
      'tls',
      r.destination,
      `the TLS certificate of ${to} is not valid for ${r.target.certificateName}: ${err.message}; the certificate's subjectAltName must name ${r.target.certificateName}`,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new FederationError('tls', r.destination, `the TLS handshake with ${to} failed: ${err.message} [${code}] (is that port serving HTTPS?)`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA') {
    return new FederationError(
      'connect',
      r.destination,
      `cannot connect to ${r.destination}: the host name ${r.target.host} does not resolve [${code}]; add it to DNS or /etc/hosts, or map ${r.destination} to an address with federation_hosts`,
    );
  }
  if (code === 'ECONNREFUSED') return new FederationError('connect', r.destination, `${to} refused the connection (is its federation listener on port ${r.target.port}?)`);
  if (phase === 'connecting') return new FederationError('connect', r.destination, `cannot connect to ${to}: ${err.message}${code ? ` [${code}]` : ''}`);
  return new FederationError('response', r.destination, `${to} closed the connection ${phase}: ${err.message}${code ? ` [${code}]` : ''}`);
}
