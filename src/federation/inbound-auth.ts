// Authenticating requests from other servers (server-server-api.md,
// "Request Authentication"), in Synapse's order: the X-Matrix header must be
// there (401) and parse (400); a `destination` in it must be our name (401); the origin must be
// allowed by federation_domain_whitelist (403 M_FORBIDDEN); and the origin's
// signature over {method, uri, origin, destination, content} must verify
// with a key of the origin valid now (401 M_UNAUTHORIZED).
import { MatrixError } from '../core/errors.js';
import type { JsonValue } from '../core/types.js';
import { parseXMatrix, requestJson, XMatrixParseError } from '../core/x-matrix.js';
import { SignatureError } from './event-signatures.js';
import type { KeyRing } from './key-ring.js';

/** What the edge knows of an incoming request before its handler runs. */
export interface IncomingSignedRequest {
  method: string;
  /** The request target exactly as received: path and query. */
  uri: string;
  authorization: string | undefined;
  /** The parsed JSON body, if there was one. */
  content: JsonValue | undefined;
}

export interface RequestAuthenticatorOptions {
  serverName: string;
  keyRing: KeyRing;
  /** undefined: any origin; a list: only these. */
  domainWhitelist?: readonly string[];
  clock?: () => number;
}

const unauthorized = (message: string): MatrixError => new MatrixError(401, 'M_UNAUTHORIZED', message);

/** Returns a function giving the origin of a correctly signed request, or throwing the MatrixError to answer with. */
export function requestAuthenticator(options: RequestAuthenticatorOptions): (request: IncomingSignedRequest) => Promise<string> {
  const clock = options.clock ?? Date.now;
  const whitelist = options.domainWhitelist === undefined ? undefined : new Set(options.domainWhitelist);
  return async (request) => {
    if (request.authorization === undefined) {
      throw unauthorized('Missing Authorization header: requests to the federation API must be signed by the sending server (X-Matrix)');
    }
    let credentials;
    try {
      credentials = parseXMatrix(request.authorization);
    } catch (err) {
      // 400, as Synapse answers a header it cannot parse (SyTest checks it); the errcode stays M_UNAUTHORIZED.
      if (err instanceof XMatrixParseError) throw new MatrixError(400, 'M_UNAUTHORIZED', `Malformed Authorization header: ${err.message}`);
      throw err;
    }
    const { origin, destination } = credentials;
    if (destination !== undefined && destination !== options.serverName) {
      throw unauthorized(`This request is addressed to ${destination}, but this server is ${options.serverName}`);
    }
    if (whitelist !== undefined && !whitelist.has(origin)) {
      throw new MatrixError(403, 'M_FORBIDDEN', `Federation with ${origin} is not allowed by this server's federation_domain_whitelist`);
    }
    const json = requestJson({ method: request.method, uri: request.uri, origin, destination: options.serverName, content: request.content });
    json['signatures'] = { [origin]: { [credentials.key]: credentials.sig } };
    try {
      await options.keyRing.verifyJsonForServer(origin, json, clock());
    } catch (err) {
      if (err instanceof SignatureError) throw unauthorized(`Invalid X-Matrix signature from ${origin}: ${err.message}`);
      throw err;
    }
    return origin;
  };
}
