// Request authentication between servers (server-server-api.md, "Request
// Authentication"): the JSON object a request's signature covers, and the
// `Authorization: X-Matrix …` header that carries the signature.
//
// The header follows RFC 9110 section 11.4 (credentials = auth-scheme
// [ 1*SP #auth-param ]): parameter names are case-insensitive tokens, values
// are tokens or quoted strings with backslash escapes, and commas may have
// spaces and tabs around them. As the spec asks, unquoted values may also
// contain colons (older servers send `origin=example.org:8448`).

import { parseServerName } from './identifiers.js';
import { signJson, type SigningKey } from './signing.js';
import type { JsonObject, JsonValue } from './types.js';

export interface XMatrixCredentials {
  /** The sending server's name. */
  origin: string;
  /** The receiving server's name; optional when parsing (servers before v1.3 omit it). */
  destination?: string;
  /** The ID of the key that made `sig`, e.g. "ed25519:a_abcd". */
  key: string;
  /** Unpadded base64 ed25519 signature of the request JSON. */
  sig: string;
}

export interface RequestToSign {
  method: string;
  /** The path and query exactly as sent, starting with /_matrix (no scheme or host). */
  uri: string;
  origin: string;
  destination: string;
  /** The JSON body, if the request has one. */
  content?: JsonValue;
}

/** The object whose signature authenticates a request (step 1 of the spec's algorithm). */
export function requestJson(request: RequestToSign): JsonObject {
  const json: JsonObject = { method: request.method, uri: request.uri, origin: request.origin, destination: request.destination };
  if (request.content !== undefined) json['content'] = request.content;
  return json;
}

/** Signs a request as `request.origin` and returns the Authorization header value. */
export function signRequest(request: RequestToSign, key: SigningKey): string {
  const signed = signJson(requestJson(request), request.origin, key);
  const sig = signed.signatures[request.origin]![key.keyId]!;
  return formatXMatrix({ origin: request.origin, destination: request.destination, key: key.keyId, sig });
}

/**
 * The header value. The spec asks senders for one space after the scheme,
 * lower-case names and no spaces around commas; every value is quoted (a
 * server name with a port is not a token), escaping `"` and `\` per RFC 9110.
 */
export function formatXMatrix(credentials: XMatrixCredentials): string {
  const params: Array<[string, string]> = [['origin', credentials.origin]];
  if (credentials.destination !== undefined) params.push(['destination', credentials.destination]);
  params.push(['key', credentials.key], ['sig', credentials.sig]);
  return `X-Matrix ${params.map(([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&')}"`).join(',')}`;
}

export class XMatrixParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XMatrixParseError';
  }
}

/** RFC 9110 tchar: the characters of a token. */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const SPACE_OR_TAB = /[ \t]/;

/**
 * Parses an `Authorization` header value carrying X-Matrix credentials.
 * Throws XMatrixParseError, whose message says what is wrong, for another
 * scheme, a malformed parameter list, a repeated parameter, a missing
 * origin, key or sig, or an origin that is not a server name. Unknown
 * parameters are ignored.
 */
export function parseXMatrix(header: string): XMatrixCredentials {
  const scheme = /^X-Matrix(?: +|$)/i.exec(header);
  if (scheme === null) throw new XMatrixParseError('the Authorization header does not use the X-Matrix scheme');
  const params = parseParams(header, scheme[0].length);
  const required = (name: string): string => {
    const value = params.get(name);
    if (value === undefined) throw new XMatrixParseError(`the X-Matrix Authorization header has no ${name} parameter`);
    return value;
  };
  const origin = required('origin');
  if (parseServerName(origin) === null) throw new XMatrixParseError(`the X-Matrix origin ${JSON.stringify(origin)} is not a server name`);
  const credentials: XMatrixCredentials = { origin, key: required('key'), sig: required('sig') };
  const destination = params.get('destination');
  if (destination !== undefined) credentials.destination = destination;
  return credentials;
}

/** `#auth-param` from `start`: name=value pairs separated by commas, names lower-cased. */
function parseParams(header: string, start: number): Map<string, string> {
  const params = new Map<string, string>();
  let i = start;
  const skipSpace = (): void => {
    while (i < header.length && SPACE_OR_TAB.test(header[i]!)) i++;
  };
  while (i < header.length) {
    skipSpace();
    // RFC 9110's list rule allows empty elements ("a=1,,b=2").
    if (header[i] === ',') {
      i++;
      continue;
    }
    if (i >= header.length) break;
    const nameStart = i;
    while (i < header.length && TCHAR.test(header[i]!)) i++;
    const name = header.slice(nameStart, i).toLowerCase();
    if (name === '') throw new XMatrixParseError(`unexpected ${JSON.stringify(header[i])} at position ${i} of the X-Matrix Authorization header`);
    skipSpace();
    if (header[i] !== '=') throw new XMatrixParseError(`the X-Matrix parameter ${name} has no value`);
    i++;
    skipSpace();
    const [value, end] = header[i] === '"' ? readQuoted(header, i) : readUnquoted(header, i);
    if (params.has(name)) throw new XMatrixParseError(`the X-Matrix parameter ${name} is given twice`);
    params.set(name, value);
    i = end;
    skipSpace();
    if (i < header.length && header[i] !== ',') {
      throw new XMatrixParseError(`expected ',' after the X-Matrix parameter ${name}, found ${JSON.stringify(header[i])}`);
    }
  }
  return params;
}

/** A quoted-string starting at the opening quote; a backslash makes the next character literal. */
function readQuoted(header: string, open: number): [string, number] {
  let value = '';
  for (let i = open + 1; i < header.length; i++) {
    const char = header[i]!;
    if (char === '"') return [value, i + 1];
    if (char === '\\') {
      i++;
      if (i >= header.length) break;
      value += header[i];
    } else {
      value += char;
    }
  }
  throw new XMatrixParseError('a quoted value in the X-Matrix Authorization header is not closed');
}

/** A token, which for compatibility may also contain colons. */
function readUnquoted(header: string, start: number): [string, number] {
  let i = start;
  while (i < header.length && (TCHAR.test(header[i]!) || header[i] === ':')) i++;
  if (i === start) throw new XMatrixParseError(`an X-Matrix parameter value is empty or starts with ${JSON.stringify(header[i] ?? '')}`);
  return [header.slice(start, i), i];
}
