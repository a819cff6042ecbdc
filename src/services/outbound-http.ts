// JSON requests to servers a client chose: push gateways (a pusher's URL)
// and identity servers (the id_server of a bind or a third-party invite).
// Like Synapse, Axon refuses to connect to addresses in ip_range_blacklist
// (unless ip_range_whitelist lets them through): otherwise any user could
// make the server probe its own LAN. HTTPS is verified against Node's CAs
// and NODE_EXTRA_CA_CERTS.
//
// node:http(s) rather than global fetch: fetch cannot tell us which address
// it connects to, whereas a `lookup` hook checks the very addresses the
// socket will use, so a DNS answer that changes between check and connect
// (DNS rebinding) cannot slip past the blacklist.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { JsonValue } from '../core/types.js';

/** Which addresses outbound requests may reach. */
export class AddressPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  constructor(blacklist: readonly string[], whitelist: readonly string[]) {
    for (const cidr of blacklist) addCidr(this.blocked, cidr);
    for (const cidr of whitelist) addCidr(this.allowed, cidr);
  }

  allows(address: string): boolean {
    const [ip, family] = normalise(address);
    if (this.allowed.check(ip, family)) return true;
    return !this.blocked.check(ip, family);
  }

  /** A socket `lookup` that only ever yields allowed addresses. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const usable = addresses.filter((a) => this.allows(a.address));
      if (usable.length === 0) return callback(refused(hostname, addresses.map((a) => a.address)), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

function addCidr(list: BlockList, cidr: string): void {
  const [address = '', prefix] = cidr.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const bits = prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix);
  list.addSubnet(address, bits, family);
}

/** IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are checked as the IPv4 address they are. */
function normalise(address: string): [string, 'ipv4' | 'ipv6'] {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return [mapped[1]!, 'ipv4'];
  return [address, isIP(address) === 6 ? 'ipv6' : 'ipv4'];
}

export class RefusedAddressError extends Error {
  readonly code = 'EADDRREFUSED_BY_POLICY';
}

function refused(host: string, addresses: string[]): RefusedAddressError {
  return new RefusedAddressError(
    `refusing to connect to ${host} (${addresses.join(', ') || 'no address'}): blocked by ip_range_blacklist; add it to ip_range_whitelist to allow it`,
  );
}

export interface JsonResponse {
  status: number;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: JsonValue | undefined;
}

export interface OutboundJsonRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON; none for a GET. */
  body?: JsonValue;
}

/** What callers need from HTTP; tests may substitute it. */
export type JsonRequester = (request: OutboundJsonRequest) => Promise<JsonResponse>;

/** Push gateways and identity servers answer with small JSON objects; anything bigger is not one. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** How HTTPS servers are trusted; by default Node's CAs and NODE_EXTRA_CA_CERTS. */
export interface ClientTls {
  /** PEM CAs trusted besides Node's bundled ones — for tests, whose CA is made after NODE_EXTRA_CA_CERTS was read. */
  extraCas?: readonly string[];
  /** use_insecure_ssl_client_just_for_testing_do_not_use: no certificate verification at all. */
  insecure?: boolean;
}

/** Sends JSON within `timeoutMs`, connecting only to addresses `policy` allows. */
export function guardedJsonRequester(policy: AddressPolicy, timeoutMs: number, tls: ClientTls = {}): JsonRequester {
  const ca = tls.extraCas && tls.extraCas.length > 0 ? [...rootCertificates, ...tls.extraCas] : undefined;
  const rejectUnauthorized = tls.insecure !== true;
  return (request) =>
    new Promise((resolve, reject) => {
      const target = new URL(request.url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !policy.allows(host)) return reject(refused(host, [host]));
      const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
      const headers: Record<string, string | number> = { ...request.headers };
      if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
      const options: RequestOptions & { ca?: string[]; rejectUnauthorized: boolean } = {
        method: request.method,
        headers,
        lookup: policy.lookup,
        signal: AbortSignal.timeout(timeoutMs),
        ca,
        rejectUnauthorized,
      };
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(target, options, (res) => readJson(res, target.host).then(resolve, reject));
      req.on('error', reject);
      req.end(payload);
    });
}

function readJson(res: IncomingMessage, host: string): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) res.destroy(new Error(`the response of ${host} exceeds ${MAX_RESPONSE_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => {
      let body: JsonValue | undefined;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as JsonValue;
      } catch {
        body = undefined;
      }
      resolve({ status: res.statusCode ?? 0, body });
    });
  });
}
