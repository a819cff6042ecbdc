// Server-side search (client-server-api/modules/search.md; search.yaml): the
// room_events category over the rooms the searcher is joined to, and the rooms
// they left or were kicked or banned from up to their departure (unless they
// forgot them; see searchable-rooms.ts). Events are indexed as they are
// persisted and dropped from the index when redacted.
//
// Results and their context are further limited by history visibility
// (HistoryVisibility.filterVisible, injected as `visibility`); in a left room,
// context, profiles and state also stop at the departure.
import { stateKeyString, type Event, type JsonObject, type JsonValue } from '../../core/types.js';
import { invalidParam } from '../../core/errors.js';
import { roomAllowedBy, typeMatches, type RoomEventFilter } from '../filters/index.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { searchWords, type SearchHit, type SearchKey, type SearchStore } from '../../storage/search.js';
import type { ClientEvent, ClientEventFormatter, Reader } from '../rooms/client-events.js';
import type { EventPipeline } from '../rooms/event-pipeline.js';
import { SearchableRooms } from './searchable-rooms.js';

/** Which event type each searchable key belongs to. */
export const SEARCH_KEYS: Readonly<Record<SearchKey, string>> = {
  'content.body': 'm.room.message',
  'content.name': 'm.room.name',
  'content.topic': 'm.room.topic',
};

/** Synapse's page size when the filter sets no limit. */
export const DEFAULT_SEARCH_LIMIT = 10;

export interface EventContextRequest {
  beforeLimit: number;
  afterLimit: number;
  includeProfile: boolean;
}

export interface RoomEventsCriteria {
  searchTerm: string;
  keys: readonly SearchKey[];
  filter: RoomEventFilter;
  orderBy: 'rank' | 'recent';
  eventContext?: EventContextRequest;
  includeState: boolean;
  groupBy: readonly ('room_id' | 'sender')[];
}

/** Narrows a user's events to those history visibility lets them see. */
export type VisibilityFilter = (userId: string, events: StoredEvent[]) => Promise<StoredEvent[]>;

export interface SearchServiceDeps {
  searchStore: SearchStore;
  roomStore: RoomStore;
  formatter: ClientEventFormatter;
  pipeline: EventPipeline;
  visibility?: VisibilityFilter;
}

function textOf(event: { type: string; content: JsonObject }): { key: SearchKey; value: string } | undefined {
  for (const [key, type] of Object.entries(SEARCH_KEYS) as [SearchKey, string][]) {
    if (event.type !== type) continue;
    const value = event.content[key.slice('content.'.length)];
    return typeof value === 'string' && value !== '' ? { key, value } : undefined;
  }
  return undefined;
}

export class SearchService {
  constructor(private readonly deps: SearchServiceDeps) {}

  /** Indexes new messages, names and topics; a redaction drops its target. */
  async onEventPersisted(event: Event): Promise<void> {
    if (event.type === 'm.room.redaction') {
      const target = event.redacts ?? event.content.redacts;
      if (typeof target === 'string') await this.deps.searchStore.remove(target);
      return;
    }
    const text = textOf(event);
    if (text) await this.deps.searchStore.index({ eventId: event.event_id, ...text });
  }

  /** POST /search, category room_events; `nextBatch` continues a previous page. */
  async searchRoomEvents(reader: Reader, criteria: RoomEventsCriteria, nextBatch?: string): Promise<JsonObject> {
    const { roomStore, searchStore } = this.deps;
    const { filter, orderBy } = criteria;
    const rooms = await SearchableRooms.forUser(roomStore, reader.userId, (roomId) => roomAllowedBy(filter, roomId));
    const keys = criteria.keys.filter((key) => typeAllowed(filter, SEARCH_KEYS[key]));
    const limit = filter.limit ?? DEFAULT_SEARCH_LIMIT;
    const position = parseBatch(nextBatch, orderBy);
    const query = {
      words: searchWords(criteria.searchTerm),
      rooms: rooms.searchRooms(),
      keys,
      senders: filter.senders,
      notSenders: filter.notSenders,
      orderBy,
      limit: limit + 1,
      offset: position.offset,
      beforeStream: position.beforeStream,
    };
    const [found, count] = await Promise.all([searchStore.search(query), searchStore.count(query)]);
    const hits = found.slice(0, limit);
    const events = await this.visibleEvents(reader.userId, hits);
    const formatted = await this.deps.formatter.format(events, reader);
    const results: JsonObject[] = [];
    for (const [i, event] of formatted.entries()) {
      const result: JsonObject = { rank: hits.find((h) => h.eventId === event.event_id)!.rank, result: event };
      if (criteria.eventContext) result.context = await this.context(reader, events[i]!, criteria.eventContext, rooms);
      results.push(result);
    }
    const body: JsonObject = { count, results, highlights: highlights(query.words, formatted) };
    const last = hits[hits.length - 1];
    if (found.length > limit && last) body.next_batch = orderBy === 'rank' ? `r${position.offset + hits.length}` : `s${last.streamOrdering}`;
    if (criteria.includeState) body.state = await this.roomStates(reader, formatted, rooms);
    if (criteria.groupBy.length > 0) body.groups = groups(criteria.groupBy, formatted);
    return body;
  }

  private async visibleEvents(userId: string, hits: readonly SearchHit[]): Promise<StoredEvent[]> {
    const byId = await this.deps.roomStore.events.getEvents(hits.map((h) => h.eventId));
    const events = hits.map((h) => byId.get(h.eventId)).filter((e): e is StoredEvent => e !== undefined);
    return this.deps.visibility ? this.deps.visibility(userId, events) : events;
  }

  /**
   * The events around a result, newest first before it and oldest first after
   * it (as /context); in a room the user left, none after their departure.
   */
  private async context(reader: Reader, event: StoredEvent, request: EventContextRequest, rooms: SearchableRooms): Promise<JsonObject> {
    const { roomStore, formatter } = this.deps;
    const position = event.streamOrdering;
    const lastReadable = rooms.lastReadable(event.roomId) ?? Number.MAX_SAFE_INTEGER;
    const [beforeRaw, afterRaw] = await Promise.all([
      roomStore.events.getEventsByStream([event.roomId], position - 1, 0, request.beforeLimit, 'backward'),
      roomStore.events.getEventsByStream([event.roomId], position, lastReadable, request.afterLimit, 'forward'),
    ]);
    const [before, after] = await Promise.all([this.visibleOf(reader.userId, beforeRaw), this.visibleOf(reader.userId, afterRaw)]);
    const oldest = before[before.length - 1];
    const newest = after[after.length - 1];
    const context: JsonObject = {
      // Tokens name the gap after a stream position, as sync tokens do.
      start: `s${(oldest ?? event).streamOrdering - 1}`,
      end: `s${(newest ?? event).streamOrdering}`,
      events_before: await formatter.format(before, reader),
      events_after: await formatter.format(after, reader),
    };
    if (request.includeProfile) {
      const senders = [...new Set([event, ...before, ...after].map((e) => e.sender))];
      context.profile_info = profiles(senders, await this.memberContents(event.roomId, senders, rooms));
    }
    return context;
  }

  /**
   * The m.room.member content of each of `userIds` that has one: from the
   * current state of a joined room, from the state at the departure of a left
   * one (later profile changes are after the user's view of the room ended).
   */
  private async memberContents(roomId: string, userIds: readonly string[], rooms: SearchableRooms): Promise<Map<string, JsonObject>> {
    const contents = new Map<string, JsonObject>();
    if (!rooms.departed(roomId)) {
      const room = await this.deps.pipeline.room(roomId);
      for (const userId of userIds) {
        const content = room?.stateEvent('m.room.member', userId)?.content;
        if (content) contents.set(userId, content);
      }
      return contents;
    }
    const state = await rooms.stateAtDeparture(roomId);
    const memberIds = userIds.map((userId) => state?.get(stateKeyString('m.room.member', userId))).filter((id): id is string => id !== undefined);
    for (const member of (await this.deps.roomStore.events.getEvents(memberIds)).values()) {
      const content = (JSON.parse(member.json) as { content?: JsonObject }).content;
      if (member.stateKey !== null && content) contents.set(member.stateKey, content);
    }
    return contents;
  }

  private async visibleOf(userId: string, events: StoredEvent[]): Promise<StoredEvent[]> {
    return this.deps.visibility ? this.deps.visibility(userId, events) : events;
  }

  /**
   * include_state: for each room with a result, the state the user may read
   * there, as GET /rooms/{roomId}/state gives it — the current state of a
   * joined room, the state at their departure from a left one (a room whose
   * departure has no recorded state is left out rather than show later state).
   */
  private async roomStates(reader: Reader, results: readonly ClientEvent[], rooms: SearchableRooms): Promise<JsonObject> {
    const state: JsonObject = {};
    for (const roomId of new Set(results.map((e) => e.room_id))) {
      const events = rooms.departed(roomId)
        ? await rooms.stateEventsAtDeparture(roomId)
        : await this.deps.roomStore.currentState.getCurrentStateEvents(roomId);
      if (events) state[roomId] = await this.deps.formatter.format(events, reader);
    }
    return state;
  }
}

function typeAllowed(filter: RoomEventFilter, type: string): boolean {
  if (filter.notTypes.some((p) => typeMatches(p, type))) return false;
  return filter.types === undefined || filter.types.some((p) => typeMatches(p, type));
}

/** next_batch tokens: "r<offset>" for order_by rank, "s<stream position>" (results before it) for recent. */
function parseBatch(token: string | undefined, orderBy: 'rank' | 'recent'): { offset: number; beforeStream?: number } {
  if (token === undefined) return { offset: 0 };
  const match = /^([rs])(\d+)$/.exec(token);
  const value = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(value) || (match[1] === 'r') !== (orderBy === 'rank')) {
    throw invalidParam(`'${token}' is not a next_batch token from a search with order_by '${orderBy}'`);
  }
  return orderBy === 'rank' ? { offset: value } : { offset: 0, beforeStream: value };
}

/** The words in the results that the search matched (each search word is a prefix of one), lower-cased. */
function highlights(words: readonly string[], results: readonly ClientEvent[]): string[] {
  const found = new Set<string>();
  for (const event of results) {
    const text = textOf({ type: event.type, content: event.content as JsonObject });
    for (const word of searchWords(text?.value ?? '')) {
      if (words.some((w) => word.startsWith(w))) found.add(word);
    }
  }
  return [...found].sort();
}

function groups(groupBy: readonly ('room_id' | 'sender')[], results: readonly ClientEvent[]): JsonObject {
  const out: JsonObject = {};
  for (const key of groupBy) {
    const byValue = new Map<string, string[]>();
    for (const event of results) {
      const value = event[key];
      byValue.set(value, [...(byValue.get(value) ?? []), event.event_id]);
    }
    const grouped: JsonObject = {};
    [...byValue].forEach(([value, eventIds], order) => {
      grouped[value] = { results: eventIds, order };
    });
    out[key] = grouped;
  }
  return out;
}

/** Display names and avatars of `userIds` from their member event contents (empty for a user without one). */
function profiles(userIds: readonly string[], memberContents: ReadonlyMap<string, JsonObject>): JsonObject {
  const out: JsonObject = {};
  for (const userId of userIds) {
    const content = memberContents.get(userId);
    const profile: Record<string, JsonValue> = {};
    if (typeof content?.displayname === 'string') profile.displayname = content.displayname;
    if (typeof content?.avatar_url === 'string') profile.avatar_url = content.avatar_url;
    out[userId] = profile;
  }
  return out;
}
