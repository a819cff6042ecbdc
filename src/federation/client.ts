// Outbound Server-Server API requests: everything the rest of federation
// calls to talk to another server. A request is refused before any
// connection if its destination is our own name or outside
// federation_domain_whitelist; otherwise the destination is discovered
// (discovery.ts), the request signed with X-Matrix (core/x-matrix.ts) and
// sent over a keep-alive connection per destination under the TLS policy and
// IP ranges (https.ts).
//
//   const { room_version } = await client.request<{ room_version: string }>(
//     'hs2.example', 'GET', `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(userId)}`,
//     { query: { ver: ['10', '11'] } });
import { Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { SigningKey } from '../core/signing.js';
import type { JsonValue } from '../core/types.js';
import { signRequest } from '../core/x-matrix.js';
import type { FederationTarget, ServerResolver } from './discovery.js';
import { FederationError } from './errors.js';
import type { OutboundConnector, OutboundResponse } from './https.js';

export type FederationMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface FederationRequestOptions {
  /** Query parameters; an array repeats the parameter (e.g. `ver` of make_join). */
  query?: Record<string, string | number | boolean | readonly string[]>;
  /** The JSON body; POST and PUT without one send `{}`, as the spec requires a JSON object. */
  body?: JsonValue;
  /** Deadline for the whole exchange. Default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RawFederationResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FederationClientOptions {
  serverName: string;
  signingKey: SigningKey;
  resolver: ServerResolver;
  connector: OutboundConnector;
  /** undefined: any server; a list: only these. */
  domainWhitelist?: readonly string[];
  defaultTimeoutMs?: number;
  /** Cap on JSON responses. Default 100 MiB, Synapse's (a room's state can be large). */
  maxResponseBytes?: number;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024;
/** Idle keep-alive connections close after this. */
const IDLE_SOCKET_MS = 60_000;

export class FederationClient {
  private readonly agents = new Map<string, Agent>();
  private readonly whitelist: ReadonlySet<string> | undefined;

  constructor(private readonly options: FederationClientOptions) {
    this.whitelist = options.domainWhitelist === undefined ? undefined : new Set(options.domainWhitelist);
  }

  /** Whether federation_domain_whitelist lets us talk to `serverName` (always, without a whitelist). */
  isAllowed(serverName: string): boolean {
    return this.whitelist === undefined || this.whitelist.has(serverName);
  }

  /**
   * A signed request whose answer is a JSON object. Throws FederationError
   * for anything but a 2xx JSON answer; for an HTTP error it carries the
   * status and the remote errcode and error.
   */
  async request<T = Record<string, JsonValue>>(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions = {}): Promise<T> {
    const response = await this.exchange(destination, method, path, opts, this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new FederationError('response', destination, `${destination} answered ${method} ${path} with a body that is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new FederationError('response', destination, `${destination} answered ${method} ${path} with JSON that is not an object`);
    }
    return parsed as T;
  }

  /**
   * A signed request whose answer is taken as bytes (media downloads).
   * Redirects are returned, not followed; 4xx and 5xx throw like `request`.
   */
  async requestRaw(
    destination: string,
    method: FederationMethod,
    path: string,
    opts: FederationRequestOptions & { maxBytes: number },
  ): Promise<RawFederationResponse> {
    return this.exchange(destination, method, path, opts, opts.maxBytes);
  }

  /** Closes idle connections; requests after this open new ones. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private async exchange(destination: string, method: FederationMethod, path: string, opts: FederationRequestOptions, maxBytes: number): Promise<OutboundResponse> {
    this.checkDestination(destination);
    if (!path.startsWith('/_matrix/')) throw new Error(`federation paths start with /_matrix/, got ${path}`);
    const uri = `${path}${queryString(opts.query)}`;
    const content = opts.body ?? (method === 'POST' || method === 'PUT' ? {} : undefined);
    const authorization = signRequest({ method, uri, origin: this.options.serverName, destination, content }, this.options.signingKey);
    const headers: Record<string, string> = { Authorization: authorization, 'User-Agent': this.options.userAgent ?? 'Axon' };
    if (content !== undefined) headers['Content-Type'] = 'application/json';
    const body = content === undefined ? undefined : Buffer.from(JSON.stringify(content));
    const { targets } = await this.options.resolver.resolve(destination);
    const response = await this.sendToFirstReachable(destination, targets, {
      method,
      path: uri,
      headers,
      body,
      timeoutMs: opts.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: opts.signal,
      maxBytes,
    });
    if (response.status >= 400) throw httpError(destination, method, path, response);
    return response;
  }

  private checkDestination(destination: string): void {
    if (destination === this.options.serverName) {
      throw new FederationError('refused', destination, `not sending a federation request to ${destination}: that is this server's own name`);
    }
    if (!this.isAllowed(destination)) {
      throw new FederationError('refused', destination, `not sending a federation request to ${destination}: it is not in federation_domain_whitelist`);
    }
  }

  /** SRV may give several targets: the next is tried when one cannot be connected to. */
  private async sendToFirstReachable(
    destination: string,
    targets: FederationTarget[],
    request: { method: string; path: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number; signal?: AbortSignal; maxBytes: number },
  ): Promise<OutboundResponse> {
    let lastError: unknown;
    for (const target of targets) {
      try {
        return await this.options.connector.send({ destination, target, agent: this.agentFor(destination), ...request });
      } catch (err) {
        if (!(err instanceof FederationError) || (err.kind !== 'connect' && err.kind !== 'tls' && err.kind !== 'refused')) throw err;
        lastError = err;
      }
    }
    throw lastError ?? new FederationError('discovery', destination, `discovery found no address for ${destination}`);
  }

  private agentFor(destination: string): Agent {
    let agent = this.agents.get(destination);
    if (agent === undefined) {
      agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
      this.agents.set(destination, agent);
    }
    return agent;
  }
}

function queryString(query: FederationRequestOptions['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function httpError(destination: string, method: string, path: string, response: OutboundResponse): FederationError {
  let errcode: string | undefined;
  let error: string | undefined;
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { errcode?: unknown; error?: unknown };
    if (typeof body.errcode === 'string') errcode = body.errcode;
    if (typeof body.error === 'string') error = body.error;
  } catch {
    // Not a Matrix error body: the status is all there is.
  }
  const detail = errcode === undefined ? '' : `: ${errcode}${error === undefined ? '' : ` ${error}`}`;
  return new FederationError('http', destination, `${destination} answered ${method} ${path} with HTTP ${response.status}${detail}`, response.status, errcode, error);
}
