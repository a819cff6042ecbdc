// The contract between the HTTP edge (src/http/server.ts, router) and the
// route modules (src/http/client/*.ts, src/http/admin/*.ts, ...). A route
// module exports a function returning Route[]; the edge matches, parses,
// authenticates and rate-limits, then calls `handler`.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { JsonValue } from '../core/types.js';

/** Who made an authenticated request (from an access token). */
export interface Requester {
  userId: string;
  deviceId: string;
  isGuest: boolean;
  isAdmin: boolean;
  /** Row id of the access token used, for /logout. */
  accessTokenId: number;
  /** An admin locked the account: the edge refuses every route not marked `allowLocked`. */
  locked?: boolean;
}

export interface MatrixRequest {
  method: string;
  /** Decoded path parameters, by the names used in the route's path (`{userId}` → params.userId). */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (routes with body: 'json'), undefined when the request had none. */
  body: JsonValue | undefined;
  /** Raw body bytes (routes with body: 'raw', e.g. media upload). */
  rawBody: Buffer | undefined;
  /** Client IP, honouring X-Forwarded-For only on listeners with x_forwarded. */
  remoteAddress: string;
  /** Set when auth is 'required' (always) or 'optional' (if a token was sent). */
  requester: Requester | undefined;
  /** Set when auth is 'federation': the server whose X-Matrix signature was verified. */
  origin?: string;
  /** Aborts when the client disconnects before the response is sent (long-polls stop waiting). */
  signal?: AbortSignal;
}

/**
 * A body streamed rather than held in memory (media files). `open` is called
 * only when the bytes are really sent, so a HEAD request never opens the file.
 */
export class StreamBody {
  constructor(
    readonly length: number,
    readonly open: () => Readable,
  ) {}
}

export interface MatrixResponse {
  status?: number;
  /** JSON-serialised unless it is a Buffer or StreamBody (then sent as-is with the given content type). */
  body: JsonValue | Buffer | StreamBody;
  headers?: Record<string, string>;
}

export type RateLimitName = 'message' | 'registration' | 'login';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /**
   * Path with `{name}` parameters, e.g. '/_matrix/client/v3/profile/{userId}/displayname'.
   * Client routes are written once under /_matrix/client/v3; the edge also
   * answers them under /_matrix/client/r0 (legacy) — see `aliasVersions`.
   */
  path: string;
  /**
   * 'required' / 'optional': an access token (Client-Server API).
   * 'federation': an X-Matrix signature from another server, verified before
   * the handler runs; `req.origin` names that server. Federation routes live
   * under src/http/federation/.
   */
  auth: 'required' | 'optional' | 'none' | 'federation';
  body?: 'json' | 'raw' | 'none';
  /** Token-bucket limit applied per user (or per IP when unauthenticated). */
  rateLimit?: RateLimitName;
  /** Also serve under these version prefixes (e.g. ['r0'] for legacy clients). */
  aliasVersions?: string[];
  /**
   * Guest accounts may call this route (guest_access.md lists which); on any
   * other route a guest gets 403 M_GUEST_ACCESS_FORBIDDEN. Default false.
   */
  guests?: boolean;
  /**
   * A locked account may still call this route. client-server-api "Account
   * locking" names only POST /logout and /logout/all; everything else answers
   * 401 M_USER_LOCKED. Default false.
   */
  allowLocked?: boolean;
  handler: (req: MatrixRequest) => Promise<MatrixResponse>;
}
