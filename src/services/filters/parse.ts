// Filters (client-server-api/_index.md, "Filtering"; data/api/client-server/
// definitions/sync_filter.yaml, event_filter.yaml, room_event_filter.yaml):
// the JSON a client uploads, validated field by field and turned into a
// typed Filter with every default filled in, for /sync, /messages and /context.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { badJson, invalidParam } from '../../core/errors.js';
import { isValidRoomId, isValidUserId } from '../../core/identifiers.js';

/** EventFilter: used for presence and global account data. */
export interface EventFilter {
  /** Absent: the endpoint's own default applies (see `timelineLimit`). */
  limit?: number;
  /** Absent: every type. Entries may contain `*` globs. */
  types?: readonly string[];
  notTypes: readonly string[];
  /** Absent: every sender. */
  senders?: readonly string[];
  notSenders: readonly string[];
}

/** RoomEventFilter: used for a room's timeline, state, ephemeral events and account data. */
export interface RoomEventFilter extends EventFilter {
  /** Absent: every room. */
  rooms?: readonly string[];
  notRooms: readonly string[];
  /** true: only events with `content.url`; false: only those without; absent: either. */
  containsUrl?: boolean;
  lazyLoadMembers: boolean;
  includeRedundantMembers: boolean;
  unreadThreadNotifications: boolean;
}

export interface RoomFilter {
  /** Applied before the per-section filters below. */
  rooms?: readonly string[];
  notRooms: readonly string[];
  includeLeave: boolean;
  ephemeral: RoomEventFilter;
  state: RoomEventFilter;
  timeline: RoomEventFilter;
  accountData: RoomEventFilter;
}

export interface Filter {
  /** Absent: every field. Dot-separated property paths. */
  eventFields?: readonly string[];
  eventFormat: 'client' | 'federation';
  presence: EventFilter;
  accountData: EventFilter;
  room: RoomFilter;
}

interface IdGrammar {
  isValid: (id: string) => boolean;
  what: string;
}

// Synapse checks these with the same grammars (synapse/api/filtering.py, "matrix_room_id").
const ROOM_IDS: IdGrammar = { isValid: (id) => isValidRoomId(id), what: 'room ID (!opaque:server, or !hash from room version 12)' };
const USER_IDS: IdGrammar = { isValid: (id) => isValidUserId(id), what: 'user ID (@localpart:server)' };

/** The filter of a request that gave none: everything passes. */
export const DEFAULT_FILTER: Filter = parseFilter({});

/**
 * Validates a filter definition and fills in its defaults. Fields the spec
 * does not define are ignored (clients send vendor extensions). Throws a
 * 400 M_BAD_JSON (wrong type) or M_INVALID_PARAM (bad value) naming the field.
 */
export function parseFilter(json: JsonValue | undefined): Filter {
  const root = asObject(json ?? {}, 'filter');
  const room = optionalObjectAt(root, 'room', '') ?? {};
  return {
    eventFields: stringArray(root, 'event_fields', ''),
    eventFormat: eventFormat(root),
    presence: eventFilter(optionalObjectAt(root, 'presence', '') ?? {}, 'presence.'),
    accountData: eventFilter(optionalObjectAt(root, 'account_data', '') ?? {}, 'account_data.'),
    room: {
      rooms: idArray(room, 'rooms', 'room.', ROOM_IDS),
      notRooms: idArray(room, 'not_rooms', 'room.', ROOM_IDS) ?? [],
      includeLeave: boolean(room, 'include_leave', 'room.') ?? false,
      ephemeral: roomEventFilter(optionalObjectAt(room, 'ephemeral', 'room.') ?? {}, 'room.ephemeral.'),
      state: roomEventFilter(optionalObjectAt(room, 'state', 'room.') ?? {}, 'room.state.'),
      timeline: roomEventFilter(optionalObjectAt(room, 'timeline', 'room.') ?? {}, 'room.timeline.'),
      accountData: roomEventFilter(optionalObjectAt(room, 'account_data', 'room.') ?? {}, 'room.account_data.'),
    },
  };
}

/** Parses a stand-alone RoomEventFilter, as /messages and /context take in their `filter` parameter. */
export function parseRoomEventFilter(json: JsonValue | undefined): RoomEventFilter {
  return roomEventFilter(asObject(json ?? {}, 'filter'), '');
}

function eventFilter(obj: JsonObject, at: string): EventFilter {
  const limit = integer(obj, 'limit', at);
  if (limit !== undefined && limit < 1) throw invalidParam(`'${at}limit' must be an integer greater than 0, not ${limit}`);
  return {
    ...(limit !== undefined && { limit }),
    types: stringArray(obj, 'types', at),
    notTypes: stringArray(obj, 'not_types', at) ?? [],
    senders: idArray(obj, 'senders', at, USER_IDS),
    notSenders: idArray(obj, 'not_senders', at, USER_IDS) ?? [],
  };
}

function roomEventFilter(obj: JsonObject, at: string): RoomEventFilter {
  return {
    ...eventFilter(obj, at),
    rooms: idArray(obj, 'rooms', at, ROOM_IDS),
    notRooms: idArray(obj, 'not_rooms', at, ROOM_IDS) ?? [],
    containsUrl: boolean(obj, 'contains_url', at),
    lazyLoadMembers: boolean(obj, 'lazy_load_members', at) ?? false,
    includeRedundantMembers: boolean(obj, 'include_redundant_members', at) ?? false,
    unreadThreadNotifications: boolean(obj, 'unread_thread_notifications', at) ?? false,
  };
}

function eventFormat(root: JsonObject): 'client' | 'federation' {
  const value = root.event_format;
  if (value === undefined || value === null) return 'client';
  if (value !== 'client' && value !== 'federation') {
    throw invalidParam(`'event_format' must be 'client' or 'federation', not ${JSON.stringify(value)}`);
  }
  return value;
}

// Field readers. `at` is the dotted path of the enclosing object, so errors
// name the field the way the client wrote it ('room.timeline.limit').

function describe(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function asObject(value: JsonValue, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badJson(`The ${what} must be a JSON object, not ${describe(value)}`);
  return value;
}

function optionalObjectAt(obj: JsonObject, field: string, at: string): JsonObject | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badJson(`'${at}${field}' must be an object, not ${describe(value)}`);
  return value;
}

function integer(obj: JsonObject, field: string, at: string): number | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badJson(`'${at}${field}' must be an integer, not ${describe(value)}`);
  return value;
}

function boolean(obj: JsonObject, field: string, at: string): boolean | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badJson(`'${at}${field}' must be a boolean, not ${describe(value)}`);
  return value;
}

function stringArray(obj: JsonObject, field: string, at: string): string[] | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badJson(`'${at}${field}' must be an array of strings, not ${describe(value)}`);
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw badJson(`'${at}${field}[${i}]' must be a string, not ${describe(item)}`);
  });
  return value as string[];
}

/** An array of user IDs or room IDs. */
function idArray(obj: JsonObject, field: string, at: string, grammar: IdGrammar): string[] | undefined {
  const values = stringArray(obj, field, at);
  values?.forEach((id, i) => {
    if (!grammar.isValid(id)) throw invalidParam(`'${at}${field}[${i}]' must be a ${grammar.what}, not '${id}'`);
  });
  return values;
}
