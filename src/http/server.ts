// The HTTP edge: one node:http(s) server per bound address of each listener.
// A request goes through: CORS → OPTIONS preflight → listener resources →
// routing → authentication → rate limit → body → handler → response. Every
// failure on the way is sent as a Matrix error; nothing a client sends can
// crash the process.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from 'pino';
import type { ListenerResource } from '../config/types.js';
import type { JsonValue } from '../core/types.js';
import type { IncomingSignedRequest } from '../federation/inbound-auth.js';
import { applyCors } from './cors.js';
import { MatrixError } from '../core/errors.js';
import { userLocked } from '../services/accounts/common.js';
import type { RateLimiters } from './rate-limit.js';
import { ClientAbortedError, MAX_JSON_BODY_BYTES, clientAddress, extractAccessToken, parseJsonBody, readBody, redactedUrl } from './request.js';
import type { RequestObserver } from './metrics.js';
import { pathSegments, type Router } from './router.js';
import { StreamBody, type MatrixRequest, type MatrixResponse, type Requester, type Route } from './types.js';

/** Where an authenticated request came from, for a device's last-seen IP and time. */
export interface SeenFrom {
  ip: string;
  userAgent?: string;
}

/** Resolves an access token to who holds it; undefined for an unknown or expired token. */
export type AccessTokenAuthenticator = (token: string, seen?: SeenFrom) => Promise<Requester | undefined>;

/** Verifies another server's X-Matrix signature and returns its name, or throws the MatrixError to answer with. */
export type ServerAuthenticator = (request: IncomingSignedRequest) => Promise<string>;

export interface EdgeOptions {
  router: Router;
  authenticate: AccessTokenAuthenticator;
  /** For routes with auth 'federation'; required when the router has any. */
  authenticateServer?: ServerAuthenticator;
  rateLimiters: RateLimiters;
  logger: Logger;
  /** Cap for raw (media) bodies: max_upload_size. */
  maxUploadSize: number;
  /** Cap for JSON bodies; defaults to MAX_JSON_BODY_BYTES. */
  maxJsonBodySize?: number;
  /** Metrics (enable_metrics): told of every response. */
  requests?: RequestObserver;
}

export interface ListenerScope {
  resources: readonly ListenerResource[];
  /** Trust X-Forwarded-For (listener's x_forwarded). */
  xForwarded: boolean;
}

/**
 * URL prefixes each listener resource serves, as Synapse mounts them: the
 * admin APIs (Synapse's and Axon's) and /.well-known sit under `client`;
 * `federation` includes the key server.
 */
const RESOURCE_PREFIXES: Readonly<Record<ListenerResource, readonly string[]>> = {
  // As Synapse: `client` implies `media`, so one listener serves Element whole.
  client: ['/_matrix/client/', '/_matrix/media/', '/.well-known/matrix/', '/_synapse/admin/', '/_synapse/client/', '/_axon/admin/'],
  federation: ['/_matrix/federation/', '/_matrix/key/'],
  keys: ['/_matrix/key/'],
  media: ['/_matrix/media/'],
  static: [],
  health: [],
  metrics: [],
  openid: ['/_matrix/federation/v1/openid/'],
  consent: [],
  replication: [],
};

/**
 * Whole paths a resource serves besides its prefixes: the client listener's
 * page at `/` (root-page.ts) and the admin console's address without its slash.
 */
const RESOURCE_PATHS: Readonly<Partial<Record<ListenerResource, readonly string[]>>> = {
  client: ['/', '/_axon/admin'],
};

export function listenerServes(resources: readonly ListenerResource[], path: string): boolean {
  return resources.some((name) => RESOURCE_PREFIXES[name].some((prefix) => path.startsWith(prefix)) || (RESOURCE_PATHS[name]?.includes(path) ?? false));
}

const UNKNOWN_TOKEN_MESSAGE = 'Unknown access token';

async function authenticateRequest(
  route: Route,
  req: IncomingMessage,
  query: URLSearchParams,
  remoteAddress: string,
  authenticate: AccessTokenAuthenticator,
): Promise<Requester | undefined> {
  if (route.auth === 'none' || route.auth === 'federation') return undefined;
  const { headers } = req;
  const token = extractAccessToken({ headers, query });
  if (token === undefined) {
    if (route.auth === 'required') throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    return undefined;
  }
  const requester = await authenticate(token, { ip: remoteAddress, userAgent: headers['user-agent'] });
  // A token that was sent but is not valid is refused even on optional-auth
  // routes, so a client learns its session ended (soft_logout per
  // client-server-api/_index.md, "Soft logout").
  if (!requester) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', UNKNOWN_TOKEN_MESSAGE, { soft_logout: false });
  if (requester.locked && !route.allowLocked) throw userLocked();
  return requester;
}

function authenticateServer(edge: EdgeOptions, req: IncomingMessage, uri: string, content: JsonValue | undefined): Promise<string> {
  if (edge.authenticateServer === undefined) throw new Error('a route with auth: federation needs EdgeOptions.authenticateServer');
  return edge.authenticateServer({ method: req.method ?? 'GET', uri, authorization: req.headers.authorization, content });
}

/** Which body a route reads. GET never has one; elsewhere JSON unless the route says otherwise. */
function bodyKind(route: Route): 'json' | 'raw' | 'none' {
  return route.body ?? (route.method === 'GET' ? 'none' : 'json');
}

async function readRouteBody(req: IncomingMessage, route: Route, edge: EdgeOptions): Promise<Pick<MatrixRequest, 'body' | 'rawBody'>> {
  switch (bodyKind(route)) {
    case 'json':
      return { body: parseJsonBody(await readBody(req, edge.maxJsonBodySize ?? MAX_JSON_BODY_BYTES)), rawBody: undefined };
    case 'raw':
      return { body: undefined, rawBody: await readBody(req, edge.maxUploadSize) };
    case 'none':
      return { body: undefined, rawBody: undefined };
  }
}

function sendJson(res: ServerResponse, status: number, body: JsonValue, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': payload.length });
  res.end(payload);
}

function sendResponse(res: ServerResponse, response: MatrixResponse, method: string | undefined): void {
  const status = response.status ?? 200;
  if (response.body instanceof StreamBody) {
    sendStream(res, status, response.body, response.headers ?? {}, method === 'HEAD');
    return;
  }
  if (!Buffer.isBuffer(response.body)) {
    sendJson(res, status, response.body, response.headers);
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'application/octet-stream',
    ...response.headers,
    'Content-Length': response.body.length,
  });
  res.end(response.body);
}

function sendStream(res: ServerResponse, status: number, body: StreamBody, headers: Record<string, string>, headOnly: boolean): void {
  res.writeHead(status, { 'Content-Type': 'application/octet-stream', ...headers, 'Content-Length': body.length });
  if (headOnly) {
    res.end();
    return;
  }
  // Headers are out: a read failure can only cut the connection, which the
  // client sees as a short body rather than a silently truncated file.
  pipeline(body.open(), res, (err) => {
    if (err) res.destroy();
  });
}

function sendError(res: ServerResponse, err: MatrixError): void {
  const headers: Record<string, string> = {};
  const retryAfterMs = err.extra['retry_after_ms'];
  if (typeof retryAfterMs === 'number') headers['Retry-After'] = String(Math.ceil(retryAfterMs / 1000));
  // The rest of an oversized body is not worth reading: close the connection.
  if (err.status === 413) headers['Connection'] = 'close';
  sendJson(res, err.status, err.toJSON(), headers);
}

/**
 * Every HTTP listener answers /health with "OK" for load balancers and
 * container health checks, as Synapse does whatever resources it lists.
 */
const HEALTH_PATH = '/health';

function sendHealth(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
  res.end('OK');
}

/** The node:http request listener for one listener's scope. */
/**
 * Requests whose handlers are still running, even if their client has gone:
 * shutdown waits for them before it closes the database under them.
 */
export class InFlightRequests {
  private readonly running = new Set<Promise<void>>();

  track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

export function createRequestListener(
  edge: EdgeOptions,
  scope: ListenerScope,
  inFlight?: InFlightRequests,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const work = handle(req, res, edge, scope)
      .catch((err: unknown) => {
        edge.logger.error({ err }, 'failed to send a response');
        return UNROUTED;
      })
      .then((servlet) => {
        const ms = performance.now() - started;
        edge.requests?.observeRequest(req.method ?? 'GET', servlet, res.statusCode, ms / 1000);
        edge.logger.info({ method: req.method, url: redactedUrl(req.url ?? ''), status: res.statusCode, ms: Math.round(ms) }, 'request');
      });
    inFlight?.track(work);
  };
}

/**
 * What metrics count a request under when no route answered it: a fixed name,
 * so that the paths clients make up cannot grow the label set.
 */
const UNROUTED = 'unrouted';
const PREFLIGHT = 'cors_preflight';

/** Answers one request; resolves to the servlet it counts under (its route's path template). */
async function handle(req: IncomingMessage, res: ServerResponse, edge: EdgeOptions, scope: ListenerScope): Promise<string> {
  applyCors(res);
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
  let servlet = UNROUTED;
  try {
    if (req.method === 'OPTIONS') {
      sendJson(res, 200, {});
      return PREFLIGHT;
    }
    if (rawPath === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      sendHealth(res);
      return HEALTH_PATH;
    }
    if (!listenerServes(scope.resources, rawPath)) throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    const matched = edge.router.match(req.method ?? 'GET', pathSegments(rawPath));
    if (matched instanceof MatrixError) throw matched;
    const { route, params } = matched;
    servlet = route.path;
    const remoteAddress = clientAddress(req, scope.xForwarded);
    const requester = await authenticateRequest(route, req, query, remoteAddress, edge.authenticate);
    // Optional-auth routes are public anyway; only token-only routes are closed to guests.
    if (requester?.isGuest && route.auth === 'required' && !route.guests) {
      throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest accounts cannot use this endpoint; register a full account');
    }
    if (route.rateLimit) edge.rateLimiters.enforceRoute(route.rateLimit, requester, remoteAddress);
    const { body, rawBody } = await readRouteBody(req, route, edge);
    // The signature covers the body, so a server is authenticated after it is read.
    const origin = route.auth === 'federation' ? await authenticateServer(edge, req, url, body) : undefined;
    const response = await route.handler({ method: req.method ?? 'GET', params, query, headers: req.headers, body, rawBody, remoteAddress, requester, origin, signal: clientGone(res) });
    sendResponse(res, response, req.method);
  } catch (err) {
    if (err instanceof ClientAbortedError) {
      req.destroy();
      return servlet;
    }
    if (res.headersSent) {
      edge.logger.error({ err, url: redactedUrl(url) }, 'request failed after the response started');
      res.destroy();
      return servlet;
    }
    if (err instanceof MatrixError) {
      sendError(res, err);
      return servlet;
    }
    edge.logger.error({ err, method: req.method, url: redactedUrl(url) }, 'unhandled error in request handler');
    sendJson(res, 500, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
  }
  return servlet;
}

/**
 * Aborts when the connection closes before the response is complete, so a
 * long-polling handler (/sync) releases its waiter when its client goes away.
 */
function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface BoundServer {
  server: Server;
  address: string;
  port: number;
  tls: boolean;
}

/** Listens on `address:port` (port 0: any free port), resolving once bound. */
export function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  address: string,
  port: number,
  tls: TlsFiles | undefined,
): Promise<BoundServer> {
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      resolve({ server, address: bound.address, port: bound.port, tls: tls !== undefined });
    });
  });
}

/**
 * Serves new TLS connections with another certificate and key (renewed
 * files, on SIGHUP); connections already open keep theirs. A key that does
 * not match the certificate throws and leaves the old pair in use.
 */
export function replaceCertificate(bound: BoundServer, tls: TlsFiles): void {
  if (!bound.tls) return;
  (bound.server as unknown as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
}

/**
 * Stops accepting connections and lets requests in flight finish (long polls
 * are woken by the caller first), so none of them meets a closed database;
 * after `graceMs` the remaining connections are cut.
 */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    // A keep-alive connection whose last response has just gone out would
    // otherwise stay open until its keep-alive timeout; close each as soon as it idles.
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    server.close(() => {
      clearTimeout(cut);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
