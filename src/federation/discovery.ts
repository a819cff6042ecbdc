// Server discovery (server-server-api.md, "Resolving server names"): turns a
// server name into where to connect, which Host header to send and which
// name the certificate must carry, in exactly the spec's order:
//
//   0. federation_hosts (Axon's, for LANs without DNS) maps the name directly;
//   1. an IP literal is used as is (port 8448 unless given);
//   2. a host name with an explicit port is used as is;
//   3. /.well-known/matrix/server on the host name, whose m.server is then
//      resolved by 3.1–3.5 (IP literal, explicit port, SRV _matrix-fed._tcp,
//      SRV _matrix._tcp, port 8448);
//   4./5. SRV _matrix-fed._tcp, then _matrix._tcp, on the host name;
//   6. the host name on port 8448.
//
// Host names are resolved to addresses later, at connect time, through the
// system resolver (dns.lookup: /etc/hosts counts) with the IP ranges applied
// (https.ts). Every resolution carries a trace of the steps tried and what
// each found, so `axon doctor federation` can show why a server is reached
// where it is.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { parseServerName } from '../core/identifiers.js';
import type { FederationHost } from '../config/types.js';
import { FederationError } from './errors.js';
import type { OutboundConnector } from './https.js';

export interface FederationTarget {
  /** Where to connect: a DNS name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** The Host header to send. */
  hostHeader: string;
  /** The name the certificate must be valid for: SNI too, unless it is an IP address. */
  certificateName: string;
}

export interface DiscoveryStep {
  /** What was tried, e.g. "SRV _matrix-fed._tcp.example.org". */
  step: string;
  /** What it found, e.g. "matrix.example.org:443 (priority 10, weight 5)" or "no record". */
  found: string;
}

export interface Resolution {
  serverName: string;
  /** Where to connect, in the order to try them (several only from SRV records). */
  targets: FederationTarget[];
  trace: DiscoveryStep[];
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface WellKnownResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ResolverOptions {
  federationHosts?: Readonly<Record<string, FederationHost>>;
  /** GET https://<hostname>/.well-known/matrix/server, following redirects; throws when there is no answer. */
  fetchWellKnown: (hostname: string) => Promise<WellKnownResponse>;
  /** SRV records of a name; [] when it has none. Default: the system's DNS servers. */
  resolveSrv?: (name: string) => Promise<SrvRecord[]>;
  clock?: () => number;
  /** For SRV weights; tests make it predictable. */
  random?: () => number;
}

const DEFAULT_PORT = 8448;

/** The spec's recommended cache lifetimes for /.well-known responses. */
export const WELL_KNOWN_DEFAULT_CACHE_MS = 24 * 60 * 60 * 1000;
export const WELL_KNOWN_MAX_CACHE_MS = 48 * 60 * 60 * 1000;
/** Errors: first cached briefly, then for twice as long after each repeat, up to an hour. */
export const WELL_KNOWN_ERROR_FIRST_MS = 2 * 60 * 1000;
export const WELL_KNOWN_ERROR_MAX_MS = 60 * 60 * 1000;
/** node's SRV answers carry no TTL; an hour bounds how stale one can get. */
const SRV_CACHE_MS = 60 * 60 * 1000;

/** What /.well-known said, as cached: the delegated name, or why there is none. */
type WellKnownOutcome = { delegated: string; detail: string } | { delegated: undefined; detail: string };

interface WellKnownEntry {
  outcome: WellKnownOutcome;
  expiresAt: number;
  /** Consecutive failures, for the back-off. */
  failures: number;
}

export class ServerResolver {
  private readonly wellKnown = new Map<string, WellKnownEntry>();
  private readonly wellKnownInFlight = new Map<string, Promise<WellKnownOutcome>>();
  private readonly srvCache = new Map<string, { records: SrvRecord[]; note: string; expiresAt: number }>();
  private readonly clock: () => number;
  private readonly resolveSrv: (name: string) => Promise<SrvRecord[]>;
  private readonly random: () => number;

  constructor(private readonly options: ResolverOptions) {
    this.clock = options.clock ?? Date.now;
    this.resolveSrv = options.resolveSrv ?? systemSrv;
    this.random = options.random ?? Math.random;
  }

  /** Throws FederationError (kind 'discovery') only for a name outside the grammar. */
  async resolve(serverName: string): Promise<Resolution> {
    const parsed = parseServerName(serverName);
    if (parsed === null) throw new FederationError('discovery', serverName, `${JSON.stringify(serverName)} is not a valid server name`);
    const trace: DiscoveryStep[] = [];
    const done = (targets: FederationTarget[]): Resolution => ({ serverName, targets, trace });
    const hostname = unbracket(parsed.host);

    const mapped = this.options.federationHosts?.[serverName];
    if (mapped !== undefined) {
      trace.push({ step: 'federation_hosts', found: `${serverName} → ${formatHostPort(mapped.host, mapped.port)}` });
      return done([{ host: mapped.host, port: mapped.port, hostHeader: serverName, certificateName: hostname }]);
    }
    if (isIP(hostname) !== 0) {
      const port = parsed.port ?? DEFAULT_PORT;
      trace.push({ step: 'IP literal', found: `connect to ${formatHostPort(hostname, port)}` });
      return done([{ host: hostname, port, hostHeader: serverName, certificateName: hostname }]);
    }
    if (parsed.port !== undefined) {
      trace.push({ step: 'explicit port', found: `connect to ${hostname}:${parsed.port}` });
      return done([{ host: hostname, port: parsed.port, hostHeader: serverName, certificateName: hostname }]);
    }

    const wellKnown = await this.lookupWellKnown(hostname);
    trace.push({ step: `GET https://${hostname}/.well-known/matrix/server`, found: wellKnown.detail });
    if (wellKnown.delegated !== undefined) return done(await this.resolveDelegated(wellKnown.delegated, trace));

    const viaSrv = await this.srvTargets(hostname, hostname, trace);
    if (viaSrv.length > 0) return done(viaSrv);
    trace.push({ step: 'default port', found: `connect to ${hostname}:${DEFAULT_PORT}` });
    return done([{ host: hostname, port: DEFAULT_PORT, hostHeader: hostname, certificateName: hostname }]);
  }

  /** Steps 3.1–3.5, for the m.server of a valid /.well-known. */
  private async resolveDelegated(delegated: string, trace: DiscoveryStep[]): Promise<FederationTarget[]> {
    const parsed = parseServerName(delegated)!;
    const host = unbracket(parsed.host);
    if (isIP(host) !== 0 || parsed.port !== undefined) {
      const port = parsed.port ?? DEFAULT_PORT;
      trace.push({ step: isIP(host) !== 0 ? 'delegated IP literal' : 'delegated explicit port', found: `connect to ${formatHostPort(host, port)}` });
      return [{ host, port, hostHeader: delegated, certificateName: host }];
    }
    const viaSrv = await this.srvTargets(host, host, trace);
    if (viaSrv.length > 0) return viaSrv;
    trace.push({ step: 'delegated default port', found: `connect to ${host}:${DEFAULT_PORT}` });
    return [{ host, port: DEFAULT_PORT, hostHeader: host, certificateName: host }];
  }

  /**
   * _matrix-fed._tcp, then the deprecated _matrix._tcp. The Host header and
   * certificate stay `name` (the spec's note: DNS is not proof of delegation).
   */
  private async srvTargets(name: string, certificateName: string, trace: DiscoveryStep[]): Promise<FederationTarget[]> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const { records, note } = await this.cachedSrv(`${service}.${name}`);
      trace.push({ step: `SRV ${service}.${name}`, found: records.length === 0 ? note : records.map(describeSrv).join(', ') });
      if (records.length > 0) {
        return sortSrv(records, this.random).map((r) => ({ host: r.name, port: r.port, hostHeader: name, certificateName }));
      }
    }
    return [];
  }

  private async cachedSrv(name: string): Promise<{ records: SrvRecord[]; note: string }> {
    const now = this.clock();
    const cached = this.srvCache.get(name);
    if (cached !== undefined && cached.expiresAt > now) return cached;
    let entry: { records: SrvRecord[]; note: string };
    try {
      const records = await this.resolveSrv(name);
      entry = { records, note: 'no record' };
    } catch (err) {
      // A LAN without a DNS server fails here; the spec's next steps (and
      // /etc/hosts through the system resolver) may still find the server.
      entry = { records: [], note: `lookup failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), treated as no record` };
    }
    this.srvCache.set(name, { ...entry, expiresAt: now + SRV_CACHE_MS });
    return entry;
  }

  /** The cached outcome while it lasts; one fetch at a time per host. */
  private async lookupWellKnown(hostname: string): Promise<WellKnownOutcome> {
    const cached = this.wellKnown.get(hostname);
    if (cached !== undefined && cached.expiresAt > this.clock()) {
      return { ...cached.outcome, detail: `${cached.outcome.detail} (cached)` } as WellKnownOutcome;
    }
    let pending = this.wellKnownInFlight.get(hostname);
    if (pending === undefined) {
      pending = this.fetchAndCache(hostname, cached?.failures ?? 0).finally(() => this.wellKnownInFlight.delete(hostname));
      this.wellKnownInFlight.set(hostname, pending);
    }
    return pending;
  }

  private async fetchAndCache(hostname: string, previousFailures: number): Promise<WellKnownOutcome> {
    const now = this.clock();
    let response: WellKnownResponse;
    try {
      response = await this.options.fetchWellKnown(hostname);
    } catch (err) {
      return this.cacheFailure(hostname, previousFailures, now, `no answer: ${(err as Error).message}`);
    }
    const delegated = parseWellKnown(response);
    if (typeof delegated !== 'string') return this.cacheFailure(hostname, previousFailures, now, delegated.invalid);
    const lifetime = cacheLifetime(response.headers, now);
    const outcome: WellKnownOutcome = { delegated, detail: `m.server is ${delegated}` };
    if (lifetime > 0) this.wellKnown.set(hostname, { outcome, expiresAt: now + lifetime, failures: 0 });
    else this.wellKnown.delete(hostname);
    return outcome;
  }

  private cacheFailure(hostname: string, previousFailures: number, now: number, detail: string): WellKnownOutcome {
    const failures = previousFailures + 1;
    const lifetime = Math.min(WELL_KNOWN_ERROR_FIRST_MS * 2 ** (failures - 1), WELL_KNOWN_ERROR_MAX_MS);
    const outcome: WellKnownOutcome = { delegated: undefined, detail };
    this.wellKnown.set(hostname, { outcome, expiresAt: now + lifetime, failures });
    return outcome;
  }
}

/** The delegated server name, or why the response is not a valid one (the spec: skip to step 4). */
function parseWellKnown(response: WellKnownResponse): string | { invalid: string } {
  if (response.status !== 200) return { invalid: `HTTP ${response.status}` };
  let body: unknown;
  try {
    // "servers parsing the response should assume that the body is JSON regardless of type"
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return { invalid: 'the body is not JSON' };
  }
  const server = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['m.server'] : undefined;
  if (typeof server !== 'string') return { invalid: 'no m.server string in the JSON' };
  if (parseServerName(server) === null) return { invalid: `m.server ${JSON.stringify(server)} is not a server name` };
  return server;
}

/**
 * How long to keep a valid response: Cache-Control (no-store: not at all;
 * max-age), else Expires, else 24 hours; never beyond 48 hours.
 */
export function cacheLifetime(headers: WellKnownResponse['headers'], now: number): number {
  const cacheControl = [headers['cache-control'] ?? []].flat().join(',').toLowerCase();
  const directives = new Map<string, string | undefined>(
    cacheControl
      .split(',')
      .map((d): [string, string | undefined] => {
        const [name = '', value] = d.split('=', 2).map((p) => p.trim());
        return [name, value];
      })
      .filter(([name]) => name !== ''),
  );
  if (directives.has('no-store')) return 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined && /^\d+$/.test(maxAge)) return Math.min(Number(maxAge) * 1000, WELL_KNOWN_MAX_CACHE_MS);
  const expires = [headers['expires'] ?? []].flat().at(-1);
  if (expires !== undefined) {
    // RFC 9111: an invalid Expires (e.g. "0") means already expired.
    const at = Date.parse(expires);
    return Number.isNaN(at) ? 0 : Math.min(Math.max(at - now, 0), WELL_KNOWN_MAX_CACHE_MS);
  }
  return WELL_KNOWN_DEFAULT_CACHE_MS;
}

/**
 * RFC 2782 order: by priority, and within one priority a weighted random
 * draw (weight 0 entries rarely first), as Synapse's _sort_server_list.
 */
export function sortSrv(records: readonly SrvRecord[], random: () => number): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const sorted: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const remaining = [...byPriority.get(priority)!];
    let total = remaining.reduce((sum, r) => sum + r.weight, 0);
    while (remaining.length > 0 && total > 0) {
      let target = Math.floor(random() * total) + 1;
      const index = remaining.findIndex((r) => (target -= r.weight) <= 0);
      const [chosen] = remaining.splice(index, 1);
      sorted.push(chosen!);
      total -= chosen!.weight;
    }
    sorted.push(...remaining);
  }
  return sorted;
}

async function systemSrv(name: string): Promise<SrvRecord[]> {
  try {
    return await dns.resolveSrv(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw err;
  }
}

function describeSrv(r: SrvRecord): string {
  return `${r.name}:${r.port} (priority ${r.priority}, weight ${r.weight})`;
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Redirects followed for /.well-known ("redirection loops should be avoided"). */
const WELL_KNOWN_MAX_REDIRECTS = 5;
/** Synapse's limit: a delegation file is a few bytes. */
const WELL_KNOWN_MAX_BYTES = 50 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The real /.well-known fetch: HTTPS under the federation TLS policy and IP
 * ranges, following redirects to other https URLs. `port` is 443 except in
 * tests.
 */
export function httpsWellKnownFetcher(
  connector: OutboundConnector,
  opts: { port?: number; timeoutMs?: number; userAgent?: string } = {},
): (hostname: string) => Promise<WellKnownResponse> {
  const port = opts.port ?? 443;
  return async (hostname) => {
    let url = new URL(`https://${formatHostPort(hostname, port)}/.well-known/matrix/server`);
    const seen = new Set<string>();
    for (let hop = 0; hop <= WELL_KNOWN_MAX_REDIRECTS; hop++) {
      if (seen.has(url.href)) throw new Error(`redirect loop back to ${url.href}`);
      seen.add(url.href);
      const host = unbracket(url.hostname);
      const response = await connector.send({
        destination: hostname,
        target: { host, port: Number(url.port || 443), hostHeader: url.host, certificateName: host },
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        headers: opts.userAgent ? { 'User-Agent': opts.userAgent } : {},
        timeoutMs: opts.timeoutMs ?? 10_000,
        maxBytes: WELL_KNOWN_MAX_BYTES,
      });
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      url = new URL(location, url);
      if (url.protocol !== 'https:') throw new Error(`redirected to ${url.href}, which is not https`);
    }
    throw new Error(`more than ${WELL_KNOWN_MAX_REDIRECTS} redirects`);
  };
}
