// Identifier grammars (appendices.md, "Identifier Grammar"): server names,
// user IDs (current and historical), room IDs (with a domain, and v12's
// hash form), room aliases and event IDs per room version.

import { isIPv6 } from 'node:net';
import type { RoomVersionRules } from './room-versions.js';

export interface ServerName {
  /** DNS name, dotted-quad IPv4, or an IPv6 literal *with* its brackets. */
  host: string;
  port?: number;
}

/** Sigil-prefixed identifiers, including the domain, are at most 255 bytes. */
const MAX_ID_BYTES = 255;
const MAX_DNS_NAME = 255;

const IPV6_LITERAL = /^\[([0-9A-Fa-f:.]{2,45})\]$/;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Labels of letters, digits and hyphens joined by single dots (RFC 1123). */
const DNS_NAME = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const PORT = /^\d{1,5}$/;

/**
 * Parses `hostname[:port]`. Returns null for anything outside the grammar:
 * IPv4 parts above 255, malformed IPv6, empty DNS labels (no trailing dot),
 * names over 255 characters, ports outside 1–65535. Case is kept: server
 * names are case-sensitive.
 */
export function parseServerName(s: string): ServerName | null {
  const { hostText, portText } = splitHostPort(s);
  if (portText !== undefined) {
    if (!PORT.test(portText)) return null;
    const port = Number(portText);
    if (port < 1 || port > 65535) return null;
    return isValidHost(hostText) ? { host: hostText, port } : null;
  }
  return isValidHost(hostText) ? { host: hostText } : null;
}

export function isValidServerName(s: string): boolean {
  return parseServerName(s) !== null;
}

function splitHostPort(s: string): { hostText: string; portText?: string } {
  // Only an IPv6 literal may contain ":" before the port, and it is bracketed.
  const hostEnd = s.startsWith('[') ? s.indexOf(']') + 1 : 0;
  const colon = hostEnd === 0 ? s.indexOf(':') : s.startsWith(':', hostEnd) ? hostEnd : -1;
  return colon === -1 ? { hostText: s } : { hostText: s.slice(0, colon), portText: s.slice(colon + 1) };
}

function isValidHost(host: string): boolean {
  const v6 = IPV6_LITERAL.exec(host);
  if (v6 !== null) return isIPv6(v6[1]!);
  if (IPV4_LIKE.test(host)) return host.split('.').every((part) => Number(part) <= 255);
  return host.length <= MAX_DNS_NAME && DNS_NAME.test(host);
}

// ---------------------------------------------------------------- user IDs

export interface IdOptions {
  /**
   * Accept the historical user ID grammar: any non-surrogate code points
   * except `:` and NUL, the empty localpart included. Servers MUST accept
   * these in received events ("Historical User IDs").
   */
  historical?: boolean;
}

export interface UserId {
  localpart: string;
  serverName: string;
}

const LOCALPART = /^[a-z0-9._=\-/+]+$/;
// Any code points except ":" and NUL; lone surrogates, which are not code
// points, are refused separately.
const HISTORICAL_LOCALPART = /^[^:\u0000]*$/u;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `localpart` is allowed. The default is the current grammar
 * (a–z 0–9 . _ = - / +, non-empty), which is what registration must enforce.
 */
export function isValidLocalpart(localpart: string, opts: IdOptions = {}): boolean {
  return opts.historical ? isValidOpaqueLocalpart(localpart) : LOCALPART.test(localpart);
}

/**
 * Parses `@localpart:server`. By default (`historical: true`) any localpart
 * the spec requires servers to accept from others is allowed; pass
 * `{ historical: false }` for IDs this server creates.
 */
export function parseUserId(s: string, opts: IdOptions = { historical: true }): UserId | null {
  const parts = parseSigilId(s, '@');
  if (parts === null || !isValidLocalpart(parts.localpart, { historical: opts.historical ?? true })) return null;
  return parts;
}

export function isValidUserId(s: string, opts: IdOptions = { historical: true }): boolean {
  return parseUserId(s, opts) !== null;
}

export function serverNameOfUserId(userId: string): string | null {
  return parseUserId(userId)?.serverName ?? null;
}

// ---------------------------------------------------------------- room IDs

export interface RoomId {
  /** The part after `!` (and before `:domain`, when there is one). */
  opaque: string;
  /** The creating server in room versions 1–11; null for v12's hash form. */
  serverName: string | null;
}

const HASH_ID = /^[A-Za-z0-9_-]{43}$/;
const STANDARD_HASH_ID = /^[A-Za-z0-9+/]{43}$/;

/**
 * Parses a room ID. With `rules` the form of that room version is required
 * (`!opaque:domain` before v12, `!` + URL-safe Base64 hash from v12); without,
 * either form is accepted.
 */
export function parseRoomId(s: string, rules?: Pick<RoomVersionRules, 'roomIdIsCreateEventHash'>): RoomId | null {
  if (!s.startsWith('!') || byteLength(s) > MAX_ID_BYTES) return null;
  const body = s.slice(1);
  if (!body.includes(':')) {
    if (rules !== undefined && !rules.roomIdIsCreateEventHash) return null;
    return HASH_ID.test(body) ? { opaque: body, serverName: null } : null;
  }
  if (rules?.roomIdIsCreateEventHash) return null;
  const parts = parseSigilId(s, '!');
  return parts !== null && isValidOpaqueLocalpart(parts.localpart)
    ? { opaque: parts.localpart, serverName: parts.serverName }
    : null;
}

export function isValidRoomId(s: string, rules?: Pick<RoomVersionRules, 'roomIdIsCreateEventHash'>): boolean {
  return parseRoomId(s, rules) !== null;
}

// ---------------------------------------------------------------- aliases

export interface RoomAlias {
  localpart: string;
  serverName: string;
}

export function parseRoomAlias(s: string): RoomAlias | null {
  const parts = parseSigilId(s, '#');
  return parts !== null && isValidOpaqueLocalpart(parts.localpart) ? parts : null;
}

export function isValidRoomAlias(s: string): boolean {
  return parseRoomAlias(s) !== null;
}

// ---------------------------------------------------------------- event IDs

/**
 * Whether `s` is an event ID in the format of room version `rules`
 * (`$opaque:domain` for v1–2, `$` + 43 Base64 characters for v3, URL-safe
 * for v4+), or in any of those formats when no version is given.
 */
export function isValidEventId(s: string, rules?: Pick<RoomVersionRules, 'eventIdFormat'>): boolean {
  if (!s.startsWith('$') || byteLength(s) > MAX_ID_BYTES) return false;
  const body = s.slice(1);
  const format = rules?.eventIdFormat;
  if (format === 'server' || (format === undefined && body.includes(':'))) {
    const parts = parseSigilId(s, '$');
    return parts !== null && parts.localpart !== '' && isValidOpaqueLocalpart(parts.localpart);
  }
  if (format === 'base64') return STANDARD_HASH_ID.test(body);
  if (format === 'urlsafe') return HASH_ID.test(body);
  return STANDARD_HASH_ID.test(body) || HASH_ID.test(body);
}

// ------------------------------------------------- namespaced identifiers

const NAMESPACED_IDENTIFIER = /^[a-z][a-z0-9._-]*$/;
const MAX_NAMESPACED_IDENTIFIER = 255;

/**
 * The Common Namespaced Identifier Grammar (appendices.md): 1–255
 * characters of a–z 0–9 - _ . starting with a letter. Whether `m.` names
 * are reserved, and whether a namespace is needed, is up to each use.
 */
export function isCommonNamespacedIdentifier(s: string): boolean {
  return s.length <= MAX_NAMESPACED_IDENTIFIER && NAMESPACED_IDENTIFIER.test(s);
}

/**
 * The server in a room version 1–2 event ID (`$opaque:domain`), whose
 * signature those versions require; null for the hash formats of v3+.
 */
export function serverNameOfEventId(eventId: string): string | null {
  if (!isValidEventId(eventId, { eventIdFormat: 'server' })) return null;
  return parseSigilId(eventId, '$')?.serverName ?? null;
}

// ---------------------------------------------------------------- shared

/** Splits `<sigil>localpart:server`, checking the server name and the 255-byte limit. */
function parseSigilId(s: string, sigil: string): UserId | null {
  if (!s.startsWith(sigil) || byteLength(s) > MAX_ID_BYTES) return null;
  const colon = s.indexOf(':');
  if (colon === -1) return null;
  const serverName = s.slice(colon + 1);
  if (!isValidServerName(serverName)) return null;
  return { localpart: s.slice(sigil.length, colon), serverName };
}

/** Room ID, alias and historical user localparts: any code points but `:` and NUL. */
function isValidOpaqueLocalpart(localpart: string): boolean {
  return HISTORICAL_LOCALPART.test(localpart) && !LONE_SURROGATE.test(localpart);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A content URI, mxc://<server-name>/<media-id> (client-server-api "Matrix Content (mxc://) URIs"). */
export interface ContentUri {
  serverName: string;
  mediaId: string;
}

/** The spec's media ID characters (content_repo "Security considerations"): no '/', no '.'. */
const MEDIA_ID = /^[A-Za-z0-9_-]+$/;

export function isValidMediaId(mediaId: string): boolean {
  return MEDIA_ID.test(mediaId);
}

/** Parses an mxc:// URI; null when the server name or media ID is outside the grammar. */
export function parseContentUri(s: string): ContentUri | null {
  if (!s.startsWith('mxc://')) return null;
  const rest = s.slice('mxc://'.length);
  const slash = rest.indexOf('/');
  if (slash === -1) return null;
  const serverName = rest.slice(0, slash);
  const mediaId = rest.slice(slash + 1);
  if (!isValidServerName(serverName) || !isValidMediaId(mediaId)) return null;
  return { serverName, mediaId };
}
