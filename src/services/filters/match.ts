// Applying a parsed Filter (./parse.ts) to events and rooms.
import { parsePropertyPath } from '../../core/push-rules/property-path.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { EventFilter, Filter, RoomEventFilter, RoomFilter } from './parse.js';

/** What filtering looks at; client events, PDUs and EDUs all have this shape. */
export interface FilterableEvent {
  type: string;
  sender?: string;
  room_id?: string;
  content?: JsonObject;
}

/** Synapse's default when a filter gives no timeline limit. */
export const DEFAULT_TIMELINE_LIMIT = 10;

const globs = new Map<string, RegExp>();

/**
 * Event type patterns: `*` matches any sequence of characters (event_filter.yaml,
 * `types`). Unlike push-rule globs, matching is case-sensitive and `?` is literal.
 */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  let regex = globs.get(pattern);
  if (regex === undefined) {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
      .join('.*');
    regex = new RegExp(`^${source}$`, 's');
    if (globs.size >= 1024) globs.clear();
    globs.set(pattern, regex);
  }
  return regex.test(type);
}

function anyTypeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => typeMatches(p, type));
}

/**
 * Whether an event passes an EventFilter or RoomEventFilter. The `not_*`
 * lists win over the allow lists (event_filter.yaml: "A matching type will be
 * excluded even if it is listed in the `types` filter").
 */
export function eventMatchesFilter(event: FilterableEvent, filter: EventFilter | RoomEventFilter): boolean {
  if (anyTypeMatches(filter.notTypes, event.type)) return false;
  if (filter.types !== undefined && !anyTypeMatches(filter.types, event.type)) return false;
  if (event.sender !== undefined) {
    if (filter.notSenders.includes(event.sender)) return false;
    if (filter.senders !== undefined && !filter.senders.includes(event.sender)) return false;
  }
  if ('notRooms' in filter && event.room_id !== undefined && !roomAllowedBy(filter, event.room_id)) return false;
  if ('notRooms' in filter && filter.containsUrl !== undefined) {
    const hasUrl = typeof event.content?.url === 'string';
    if (hasUrl !== filter.containsUrl) return false;
  }
  return true;
}

/** Whether a room passes a room list (RoomFilter's top level, or a RoomEventFilter's own rooms/not_rooms). */
export function roomAllowedBy(filter: Pick<RoomFilter, 'rooms' | 'notRooms'>, roomId: string): boolean {
  if (filter.notRooms.includes(roomId)) return false;
  return filter.rooms === undefined || filter.rooms.includes(roomId);
}

/** Whether /sync should include `roomId` at all (RoomFilter rooms/not_rooms). */
export function roomIncluded(filter: Filter, roomId: string): boolean {
  return roomAllowedBy(filter.room, roomId);
}

/** Events of a list that pass the filter, in order. */
export function filterEvents<E extends FilterableEvent>(events: readonly E[], filter: EventFilter | RoomEventFilter): E[] {
  return events.filter((e) => eventMatchesFilter(e, filter));
}

/** The number of timeline events to return, capped by the server's maximum. */
export function timelineLimit(filter: EventFilter, fallback = DEFAULT_TIMELINE_LIMIT, max = Number.MAX_SAFE_INTEGER): number {
  return Math.min(filter.limit ?? fallback, max);
}

/**
 * Lazy-loading of members (_index.md, "Lazy-loading room members") is asked
 * for on the state filter of /sync, or on the RoomEventFilter of /messages
 * and /context.
 */
export function lazyLoadMembers(filter: Filter | RoomEventFilter): boolean {
  return 'room' in filter ? filter.room.state.lazyLoadMembers : filter.lazyLoadMembers;
}

/** Redundant members are only sent on request, and only when lazy-loading at all. */
export function includeRedundantMembers(filter: Filter | RoomEventFilter): boolean {
  const f = 'room' in filter ? filter.room.state : filter;
  return f.lazyLoadMembers && f.includeRedundantMembers;
}

/**
 * Keeps only the `event_fields` of an event (absent: the event unchanged).
 * Paths are dot-separated (appendices, "Dot-separated property paths"); a
 * path to a missing field adds nothing.
 */
export function applyEventFields<E extends JsonObject>(event: E, fields: readonly string[] | undefined): JsonObject {
  if (fields === undefined) return event;
  const out: JsonObject = {};
  for (const field of fields) copyPath(event, out, parsePropertyPath(field));
  return out;
}

function copyPath(from: JsonObject, to: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.prototype.hasOwnProperty.call(from, head)) return;
  const value: JsonValue = from[head]!;
  if (rest.length === 0) {
    to[head] = value;
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const existing = to[head];
  const child: JsonObject = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? existing : {};
  copyPath(value, child, rest);
  if (Object.keys(child).length > 0) to[head] = child;
}
