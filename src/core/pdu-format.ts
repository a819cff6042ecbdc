// The first check on a PDU received from another server (server-server-api.md,
// "Checks performed on receipt of a PDU", step 1): it must have the event
// format of its room version (rooms/v*.md "Event format", the OpenAPI
// definitions api/server-server/definitions/pdu_v*.yaml), or it is dropped.
// Passing here says nothing about signatures, hashes or authorisation.

import { canonicalJsonBytes, CanonicalJsonError } from './canonical-json.js';
import { computeEventId } from './event-id.js';
import { isValidEventId, isValidRoomId, isValidUserId } from './identifiers.js';
import type { RoomVersionRules } from './room-versions.js';
import type { Event, JsonObject, JsonValue } from './types.js';

/** The complete event, signatures included, in canonical JSON (client-server-api "Size limits"). */
export const MAX_PDU_BYTES = 65_536;
/** `type` and `state_key` (identifiers have their own 255-byte limit in their grammar). */
const MAX_KEY_BYTES = 255;
/**
 * Synapse refuses events referencing more than this many prev_events or
 * auth_events; a legitimate event never needs more (auth events are at most
 * a handful, and servers cap prev_events at 10–20).
 */
const MAX_PREV_EVENTS = 20;
const MAX_AUTH_EVENTS = 10;
/** Depth is a canonical JSON integer in every version from 6; earlier ones use the same cap in practice. */
const MAX_DEPTH = Number.MAX_SAFE_INTEGER;

export type PduParse = { ok: true; event: Event } | { ok: false; reason: string };

export interface PduParseOptions {
  /** The room the event must belong to. */
  expectedRoomId?: string;
  /**
   * false for history (backfill), whose events may predate the caps on
   * prev_events and auth_events: the spec says not to hold them to those.
   */
  limitReferences?: boolean;
}

/**
 * Validates `pdu` against the event format of `rules` and returns it as an
 * Event with its event ID (computed from v3 on) and room ID (derived from
 * the event itself for a v12 create event). `expectedRoomId`, when given,
 * must be the event's room. Never throws.
 */
export function parseReceivedPdu(pdu: JsonValue, rules: RoomVersionRules, options: PduParseOptions = {}): PduParse {
  const { expectedRoomId, limitReferences = true } = options;
  if (!isObject(pdu)) return fail('a PDU must be a JSON object');
  const problem = formatProblem(pdu, rules, limitReferences);
  if (problem) return fail(problem);
  let eventId: string;
  try {
    // Canonical JSON also enforces v6+'s integer range and no floats.
    const size = canonicalJsonBytes(pdu, { strict: rules.strictCanonicalJson }).length;
    if (size > MAX_PDU_BYTES) return fail(`the event is ${size} bytes of canonical JSON; the limit is ${MAX_PDU_BYTES}`);
    eventId = rules.eventFormat === 1 ? (pdu['event_id'] as string) : computeEventId(pdu, rules);
  } catch (err) {
    if (err instanceof CanonicalJsonError) return fail(`the event is not valid canonical JSON for room version ${rules.id}: ${err.message}`);
    throw err;
  }
  const isV12Create = rules.roomIdIsCreateEventHash && pdu['type'] === 'm.room.create';
  const roomId = isV12Create ? `!${eventId.slice(1)}` : (pdu['room_id'] as string);
  if (expectedRoomId !== undefined && roomId !== expectedRoomId) return fail(`the event belongs to room ${roomId}, not ${expectedRoomId}`);
  const { unsigned: _unsigned, ...rest } = pdu;
  return { ok: true, event: { ...rest, event_id: eventId, room_id: roomId } as unknown as Event };
}

function formatProblem(pdu: JsonObject, rules: RoomVersionRules, limitReferences: boolean): string | undefined {
  const { type, sender, content, state_key: stateKey, depth, origin_server_ts: ts, hashes, signatures } = pdu;
  if (typeof type !== 'string') return "'type' must be a string";
  if (byteLength(type) > MAX_KEY_BYTES) return `'type' is longer than ${MAX_KEY_BYTES} bytes`;
  if (typeof sender !== 'string' || !isValidUserId(sender)) return "'sender' must be a user ID";
  if (!isObject(content)) return "'content' must be an object";
  if (stateKey !== undefined && typeof stateKey !== 'string') return "'state_key' must be a string when present";
  if (typeof stateKey === 'string' && byteLength(stateKey) > MAX_KEY_BYTES) return `'state_key' is longer than ${MAX_KEY_BYTES} bytes`;
  if (!isInteger(depth) || depth < 0 || depth > MAX_DEPTH) return "'depth' must be a non-negative integer";
  if (!isInteger(ts)) return "'origin_server_ts' must be an integer";
  // Missing hashes or signatures are left to the checks after this one: an
  // unsigned event fails the signature check, and one without a hash is
  // taken redacted, as Synapse answers (403 for an unsigned send_join).
  if (hashes !== undefined && (!isObject(hashes) || typeof hashes['sha256'] !== 'string')) return "'hashes.sha256' must be a string";
  if (signatures !== undefined && (!isObject(signatures) || !Object.values(signatures).every((s) => isObject(s) && Object.values(s).every((v) => typeof v === 'string')))) {
    return "'signatures' must map server names to objects of key ID → signature";
  }
  return roomIdProblem(pdu, rules) ?? eventIdProblem(pdu, rules) ?? referencesProblem(pdu, rules, limitReferences) ?? redactsProblem(pdu, rules);
}

function roomIdProblem(pdu: JsonObject, rules: RoomVersionRules): string | undefined {
  const roomId = pdu['room_id'];
  if (rules.roomIdIsCreateEventHash && pdu['type'] === 'm.room.create') {
    return roomId === undefined ? undefined : `an m.room.create event of room version ${rules.id} must not have a 'room_id'`;
  }
  if (typeof roomId !== 'string' || !isValidRoomId(roomId, rules)) return `'room_id' must be a room ID of room version ${rules.id}`;
  return undefined;
}

function eventIdProblem(pdu: JsonObject, rules: RoomVersionRules): string | undefined {
  const eventId = pdu['event_id'];
  if (rules.eventFormat === 1) {
    return typeof eventId === 'string' && isValidEventId(eventId, rules) ? undefined : "'event_id' must be an event ID of the form $opaque:server";
  }
  // From v3 the ID is the reference hash; one carried along is ignored by
  // the hashes (it is stripped by redaction) but is not the event's ID.
  return undefined;
}

function referencesProblem(pdu: JsonObject, rules: RoomVersionRules, limit: boolean): string | undefined {
  for (const [field, max] of [
    ['prev_events', MAX_PREV_EVENTS],
    ['auth_events', MAX_AUTH_EVENTS],
  ] as const) {
    const refs = pdu[field];
    if (!Array.isArray(refs)) return `'${field}' must be an array`;
    if (limit && refs.length > max) return `'${field}' lists ${refs.length} events; at most ${max} are accepted`;
    if (!refs.every((ref) => isReference(ref, rules))) {
      return rules.eventFormat === 1
        ? `'${field}' must hold [event ID, {"sha256": hash}] pairs`
        : `'${field}' must hold event IDs of room version ${rules.id}`;
    }
  }
  return undefined;
}

function isReference(ref: JsonValue, rules: RoomVersionRules): boolean {
  if (rules.eventFormat !== 1) return typeof ref === 'string' && isValidEventId(ref, rules);
  if (!Array.isArray(ref) || ref.length < 2) return false;
  // The hashes object is not checked: servers have sent it empty (SyTest does), and nothing relies on it.
  const [id, hashes] = ref;
  return typeof id === 'string' && isValidEventId(id, rules) && isObject(hashes);
}

function redactsProblem(pdu: JsonObject, rules: RoomVersionRules): string | undefined {
  if (pdu['type'] !== 'm.room.redaction') return undefined;
  const redacts = rules.redactsInContent ? (pdu['content'] as JsonObject)['redacts'] : pdu['redacts'];
  if (typeof redacts === 'string' && isValidEventId(redacts)) return undefined;
  // v11+ servers must still accept a redaction whose target is elsewhere; one with none redacts nothing.
  return redacts === undefined ? undefined : `'redacts' must be an event ID`;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function fail(reason: string): PduParse {
  return { ok: false, reason };
}
