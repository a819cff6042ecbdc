// Shapes of Matrix data shared by the protocol core. They mirror the spec's
// own names (server-server-api.md, "PDUs"; rooms/v*.md "Event format").

/** Any JSON value that canonical JSON can represent. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `signatures`: server name → key ID → unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/** Room versions 1 and 2 reference events as [eventId, {sha256: hash}] pairs. */
export type EventReferenceV1 = [string, { sha256: string }];

/**
 * A persistent data unit as it travels between servers. Fields that only some
 * room versions carry are optional; `RoomVersionRules.eventFormat` says which
 * shape applies. Unknown top-level keys are kept (they are covered by hashes).
 */
export interface PDU {
  /** Present only in room versions 1 and 2, where the origin server chose it. */
  event_id?: string;
  /** Absent from the create event in room version 12 (the ID derives from it). */
  room_id?: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  origin_server_ts: number;
  depth: number;
  prev_events: string[] | EventReferenceV1[];
  auth_events: string[] | EventReferenceV1[];
  /** Top-level in room versions 1–10; moved into `content` in v11+. */
  redacts?: string;
  hashes: { sha256: string; [algorithm: string]: string };
  signatures: Signatures;
  unsigned?: JsonObject;
  /** Historical keys, removed from the redaction allow-list in v11. */
  origin?: string;
  membership?: string;
  prev_state?: JsonValue;
  [key: string]: JsonValue | undefined;
}

/** A PDU together with its (computed or carried) event ID, as the core uses it. */
export interface Event extends PDU {
  event_id: string;
  room_id: string;
}

/** A state key pair, the address of one piece of room state. */
export type StateKey = readonly [type: string, stateKey: string];

/** Room state: "type\u0000state_key" → event ID (see `stateKeyString`). */
export type StateMap = Map<string, string>;

export function stateKeyString(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

export function parseStateKeyString(key: string): StateKey {
  const split = key.indexOf('\u0000');
  return [key.slice(0, split), key.slice(split + 1)];
}
