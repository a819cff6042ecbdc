// Room timeline pagination (client-server-api "Room events pagination",
// "GET /rooms/{roomId}/messages").
//
// Pagination token format: `t<N>` names the gap *after* the event at stream
// ordering N (N = 0 is before the room's first event). That is the same
// convention as EventStore.getEventsByStream and the events position in sync
// tokens, so:
//   - paginating backwards from `t<N>` returns events with stream ordering <= N,
//     newest first;
//   - paginating forwards from `t<N>` returns events with stream ordering > N.
// /sync hands out `paginationToken(pos)` as a timeline's `prev_batch`, where
// `pos` is the stream ordering of the event just before the timeline's first
// event (i.e. firstEvent.streamOrdering - 1). Sync tokens (`s<events>_…`) are
// also accepted as positions, since clients pass /sync's next_batch/prev_batch
// to /messages; only their events position is used.
import { stateKeyString, type JsonObject } from '../../core/types.js';
import { invalidParam, notFound } from '../../core/errors.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { eventMatchesFilter, type RoomEventFilter } from '../filters/index.js';
import { parseSyncToken } from '../sync/token.js';
import type { HistoryVisibility } from './visibility.js';

/** The pagination token for the gap after the event at `streamOrdering`. */
export function paginationToken(streamOrdering: number): string {
  return `t${streamOrdering}`;
}

/** The events stream position a `t…` pagination token or an `s…` sync token names. */
export function parsePaginationToken(token: string): number {
  if (token.startsWith('s')) return parseSyncToken(token).events;
  // Backfilled history sits at negative positions (migration 26).
  const match = /^t(-?\d+)$/.exec(token);
  const position = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(position)) throw invalidParam(`'${token}' is not a pagination token issued by this server`);
  return position;
}

export type PaginationDirection = 'b' | 'f';

export interface MessagesRequest {
  userId: string;
  roomId: string;
  from?: string;
  to?: string;
  dir: PaginationDirection;
  limit: number;
  filter: RoomEventFilter;
}

export interface TimelinePage {
  start: string;
  /** Absent when there is nothing further the user may see in this direction. */
  end?: string;
  /** In the order of pagination: newest first for 'b'. */
  chunk: StoredEvent[];
  /** Lazy-loaded member events of the chunk's senders, when the filter asks. */
  state: StoredEvent[];
}

export interface ContextResult {
  event: StoredEvent;
  /** Newest first. */
  before: StoredEvent[];
  /** Oldest first. */
  after: StoredEvent[];
  start: string;
  end: string;
  state: StoredEvent[];
}

export interface MembersQuery {
  at?: string;
  membership?: string;
  notMembership?: string;
}

/** message_pagination.yaml: the server caps `limit`. */
export const MAX_MESSAGES_LIMIT = 1000;

/**
 * Events one page returns: the request's `limit`, bounded by the filter's
 * own `limit` (RoomEventFilter: "the maximum number of events to return")
 * and by the server's cap.
 */
function pageLimit(requested: number, filter: RoomEventFilter): number {
  return Math.min(Math.max(requested, 0), filter.limit ?? MAX_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT);
}

/**
 * Events one page may look through to find `limit` visible ones, so a long
 * stretch of history the user may not see ends a page rather than scanning
 * the room; the page still carries `end`, and the client asks again.
 */
const MAX_SCANNED_PER_PAGE = 2000;

/** The position before every event, backfilled history included. */
const BEFORE_EVERYTHING = Number.MIN_SAFE_INTEGER;

export class TimelineService {
  constructor(
    private readonly store: RoomStore,
    private readonly visibility: HistoryVisibility,
    /**
     * Fetches the room's history from other servers when paging backwards
     * runs out of events here; true if it found any (federation/).
     */
    private readonly backfill?: (roomId: string) => Promise<boolean>,
  ) {}

  /** 403 unless the user may read the room's timeline at all (HistoryVisibility.requireReadableRoom). */
  async requireReadable(userId: string, roomId: string): Promise<void> {
    await this.visibility.requireReadableRoom(userId, roomId);
  }

  /**
   * GET /rooms/{roomId}/messages. Paging backwards past the earliest event
   * here asks other servers in the room for the history before it.
   */
  async messages(request: MessagesRequest): Promise<TimelinePage> {
    await this.requireReadable(request.userId, request.roomId);
    const page = await this.page(request);
    if (request.dir === 'b' && page.end === undefined && request.to === undefined && this.backfill && (await this.backfill(request.roomId))) {
      return this.page(request);
    }
    return page;
  }

  private async page(request: MessagesRequest): Promise<TimelinePage> {
    const { userId, roomId, dir, filter } = request;
    const backward = dir === 'b';
    const top = await this.store.events.maxStreamPosition();
    const from = request.from === undefined ? (backward ? top : BEFORE_EVERYTHING) : parsePaginationToken(request.from);
    const to = request.to === undefined ? (backward ? BEFORE_EVERYTHING : top) : parsePaginationToken(request.to);
    const limit = pageLimit(request.limit, filter);
    const start = request.from ?? paginationToken(from);
    if (limit === 0 || (backward ? from <= to : from >= to)) return { start, chunk: [], state: [] };

    const chunk: StoredEvent[] = [];
    let position = from;
    let exhausted = false;
    let scanned = 0;
    while (chunk.length < limit && scanned < MAX_SCANNED_PER_PAGE) {
      const want = Math.min(Math.max(limit - chunk.length, 20), MAX_SCANNED_PER_PAGE - scanned);
      const batch = await this.store.events.getEventsByStream([roomId], position, to, want, backward ? 'backward' : 'forward');
      scanned += batch.length;
      // Served as the user may see them (an erased sender's events may come back redacted).
      const served = new Map((await this.visibility.filterVisible(userId, batch.filter((e) => matches(e, filter)))).map((e) => [e.eventId, e]));
      let consumed = 0;
      for (const event of batch) {
        consumed += 1;
        position = backward ? event.streamOrdering - 1 : event.streamOrdering;
        const visible = served.get(event.eventId);
        if (visible) chunk.push(visible);
        if (chunk.length === limit) break;
      }
      if (batch.length < want) {
        exhausted = consumed === batch.length;
        break;
      }
    }
    const page: TimelinePage = { start, chunk, state: filter.lazyLoadMembers ? await this.lazyMembers(chunk) : [] };
    if (!exhausted) page.end = paginationToken(position);
    return page;
  }

  /** GET /rooms/{roomId}/context/{eventId}: `limit` split between events before and after. */
  async context(userId: string, roomId: string, eventId: string, limit: number, filter: RoomEventFilter): Promise<ContextResult> {
    // Synapse: a room the user may not read, or an event in it they may not see, is 403 (an unknown event 404).
    await this.requireReadable(userId, roomId);
    const event = await this.visibility.requireVisibleEvent(userId, roomId, eventId, 'forbidden');
    const capped = pageLimit(limit, filter);
    const beforeLimit = Math.floor(capped / 2);
    const afterLimit = capped - beforeLimit;
    const around = event.streamOrdering;
    const [before, after] = await Promise.all([
      this.messages({ userId, roomId, from: paginationToken(around - 1), dir: 'b', limit: beforeLimit, filter: { ...filter, lazyLoadMembers: false } }),
      this.messages({ userId, roomId, from: paginationToken(around), dir: 'f', limit: afterLimit, filter: { ...filter, lazyLoadMembers: false } }),
    ]);
    const last = after.chunk.at(-1) ?? event;
    const stateEvents = await this.stateAt(last);
    const members = new Set([event, ...before.chunk, ...after.chunk].map((e) => e.sender));
    const state = filter.lazyLoadMembers ? stateEvents.filter((e) => e.type === 'm.room.member' && members.has(e.stateKey!)) : stateEvents;
    const firstBefore = before.chunk.at(-1);
    return {
      event,
      before: before.chunk,
      after: after.chunk,
      // Tokens bound what was returned, so paginating from them continues seamlessly.
      start: paginationToken((firstBefore ?? event).streamOrdering - 1),
      end: paginationToken(last.streamOrdering),
      state,
    };
  }

  /**
   * GET /timestamp_to_event: the room's event closest to `ts` in a
   * direction that the user may see (404 when there is none).
   */
  async eventNearTimestamp(userId: string, roomId: string, ts: number, dir: PaginationDirection): Promise<StoredEvent> {
    await this.requireReadable(userId, roomId);
    const event = await this.store.events.getEventNearTimestamp(roomId, ts, dir === 'f' ? 'forward' : 'backward');
    if (!event || !(await this.canSee(userId, event))) {
      throw notFound(`No event you may see was found ${dir === 'f' ? 'after' : 'before'} ${ts} in ${roomId}`);
    }
    return event;
  }

  async canSee(userId: string, event: StoredEvent): Promise<boolean> {
    return this.visibility.canSee(userId, event);
  }

  /**
   * GET /rooms/{roomId}/event/{eventId} — or, without `roomId`, the
   * deprecated GET /events/{eventId} (old_sync.yaml), where the event may be
   * in any room: the event as the user may see it; 404 otherwise.
   */
  async requireVisibleEvent(userId: string, roomId: string | undefined, eventId: string): Promise<StoredEvent> {
    return this.visibility.requireVisibleEvent(userId, roomId, eventId);
  }

  /**
   * GET /rooms/{roomId}/members: the member events at `at` (a pagination
   * token), or now — or, for a user who has left, as of their departure.
   */
  async members(userId: string, roomId: string, query: MembersQuery): Promise<StoredEvent[]> {
    await this.requireReadable(userId, roomId);
    const membership = await this.store.memberships.getMembership(roomId, userId);
    let position = query.at === undefined ? undefined : parsePaginationToken(query.at);
    if (membership && membership.membership !== 'join' && membership.membership !== 'invite') {
      // Someone who left sees the room as it was when they left, no later.
      position = Math.min(position ?? membership.streamOrdering, membership.streamOrdering);
    }
    let events: StoredEvent[];
    if (position === undefined) {
      events = await this.store.currentState.getCurrentStateEvents(roomId, { types: ['m.room.member'] });
    } else {
      const last = await this.store.events.getLastEventAtOrBefore(roomId, position);
      events = last ? (await this.stateAt(last)).filter((e) => e.type === 'm.room.member') : [];
    }
    return events.filter((e) => membershipSelected(membershipIn(contentOf(e)), query));
  }

  /** The room state right after `event` (the state before it, plus the event if it is state). */
  async stateAt(event: StoredEvent): Promise<StoredEvent[]> {
    const state = event.stateSnapshotBefore === null ? new Map<string, string>() : await this.store.snapshots.loadStateSnapshot(event.stateSnapshotBefore);
    if (event.stateKey !== null) state.set(stateKeyString(event.type, event.stateKey), event.eventId);
    const events = await this.store.events.getEvents([...state.values()]);
    return [...events.values()].sort((a, b) => a.streamOrdering - b.streamOrdering);
  }

  /**
   * Lazy-loading members (_index.md "Lazy-loading room members"): the
   * member events of the chunk's senders, as of the chunk's last event.
   */
  private async lazyMembers(chunk: readonly StoredEvent[]): Promise<StoredEvent[]> {
    const last = chunk.at(-1);
    if (!last) return [];
    const senders = new Set(chunk.map((e) => e.sender));
    const state = last.stateSnapshotBefore === null ? new Map<string, string>() : await this.store.snapshots.loadStateSnapshot(last.stateSnapshotBefore);
    if (last.stateKey !== null) state.set(stateKeyString(last.type, last.stateKey), last.eventId);
    const ids = [...senders].map((s) => state.get(stateKeyString('m.room.member', s))).filter((id): id is string => id !== undefined);
    const events = await this.store.events.getEvents(ids);
    return [...events.values()];
  }
}

function contentOf(event: StoredEvent): JsonObject {
  return (JSON.parse(event.json) as { content?: JsonObject }).content ?? {};
}

function membershipIn(content: JsonObject): string | undefined {
  return typeof content.membership === 'string' ? content.membership : undefined;
}

/** rooms.yaml: `membership` and `not_membership` together form an "or". */
function membershipSelected(value: string | undefined, { membership, notMembership }: MembersQuery): boolean {
  const is = membership === undefined ? undefined : value === membership;
  const isNot = notMembership === undefined ? undefined : value !== notMembership;
  if (is !== undefined && isNot !== undefined) return is || isNot;
  return is ?? isNot ?? true;
}

/** The RoomEventFilter's checks on a stored event. */
function matches(event: StoredEvent, filter: RoomEventFilter): boolean {
  return eventMatchesFilter({ type: event.type, sender: event.sender, room_id: event.roomId, content: contentOf(event) }, filter);
}
