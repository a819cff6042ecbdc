// The deprecated pre-/sync API (data/api/client-server/old_sync.yaml and
// room_initial_sync.yaml): GET /events, GET /initialSync and GET
// /rooms/{roomId}/initialSync, reshaped from classic /sync passes so they
// share its stream providers, tokens and long-polling. /events reads room
// events forward from the client's token a page at a time, so a client that
// fell behind catches up on every event, in order, over several calls.
import type { JsonObject } from '../../core/types.js';
import { forbidden } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import { DEFAULT_FILTER, parseFilter } from '../filters/index.js';
import { paginationToken } from '../rooms/timeline.js';
import type { HistoryVisibility } from '../rooms/visibility.js';
import type { PresenceService, ReceiptService } from '../user-data/index.js';
import { formatSyncToken, parseSyncToken, type StreamPositions } from './token.js';
import type { SyncService } from './sync-service.js';

interface Who {
  userId: string;
  deviceId: string;
}

type RoomSection = { timeline?: { events: JsonObject[]; prev_batch?: string }; state?: { events: JsonObject[] }; ephemeral?: { events: JsonObject[] }; account_data?: { events: JsonObject[] } };
/**
 * Room events one GET /events returns at most: the rest follow from its
 * `end`, oldest first (as Synapse pages its event stream forward).
 */
export const EVENTS_PAGE = 100;

type SyncBody = JsonObject & {
  next_batch: string;
  rooms: Record<'join' | 'invite' | 'leave' | 'knock', Record<string, RoomSection & { invite_state?: { events: JsonObject[] } }>>;
  presence: { events: JsonObject[] };
  account_data: { events: JsonObject[] };
};

export class LegacySyncService {
  constructor(
    private readonly sync: SyncService,
    private readonly store: RoomStore,
    private readonly visibility: Pick<HistoryVisibility, 'isWorldReadable' | 'filterVisible'>,
    private readonly presence: Pick<PresenceService, 'currentPresenceEvents'>,
    private readonly receipts: Pick<ReceiptService, 'receiptsForRooms'>,
  ) {}

  /**
   * # GET /events: events after `from` (default: now), waiting up to
   * `timeoutMs` for some — of the user's joined rooms, or of `roomId` alone
   * (old_sync.yaml), which the user must have joined or which must be
   * world_readable (a peek, as Synapse): this stream never carries a room
   * the user may not read. Room events come oldest first, at most `limit`
   * (and EVENTS_PAGE) of them, and `end` follows the last one returned.
   */
  async events(
    who: Who,
    from: StreamPositions | undefined,
    fromToken: string | undefined,
    timeoutMs: number,
    options: { roomId?: string; limit?: number; signal?: AbortSignal } = {},
  ): Promise<JsonObject> {
    const { roomId, signal } = options;
    const pageSize = Math.max(1, Math.min(options.limit ?? EVENTS_PAGE, EVENTS_PAGE));
    let peek: string[] = [];
    if (roomId !== undefined && (await this.store.memberships.getMembership(roomId, who.userId))?.membership !== 'join') {
      if (!(await this.visibility.isWorldReadable(roomId))) throw forbidden(`${who.userId} is not in ${roomId}: join it to follow its events`);
      peek = [roomId];
    }
    const since = from ?? this.sync.currentPositions();
    // The sync pass waits for news and brings ephemeral events and presence;
    // one timeline event per room is enough for it to notice a room moved.
    const filter = parseFilter({ room: { ...(roomId === undefined ? {} : { rooms: [roomId] }), timeline: { limit: 1 } } });
    const body = (await this.sync.sync({ ...who, since, timeoutMs, fullState: false, filter, peek, signal })) as SyncBody;
    const to = parseSyncToken(body.next_batch);
    const rooms = roomId !== undefined ? [roomId] : await this.joinedRoomIds(who.userId);
    const page = await this.roomEventsPage(who, rooms, since.events, to.events, pageSize);
    const chunk: JsonObject[] = [...page.events];
    for (const [roomId, room] of Object.entries(body.rooms.join)) {
      for (const event of room.ephemeral?.events ?? []) chunk.push({ ...event, room_id: roomId });
    }
    chunk.push(...legacyPresence(body.presence.events));
    // As Synapse's event stream (the spec's old_sync.yaml names no kinds):
    // the user's account data as it changes, a room's (m.tag included) with its room_id.
    chunk.push(...body.account_data.events);
    for (const [roomId, room] of [...Object.entries(body.rooms.join), ...Object.entries(body.rooms.leave)]) {
      for (const event of room.account_data?.events ?? []) chunk.push({ ...event, room_id: roomId });
    }
    const end = formatSyncToken({ ...to, events: page.end });
    return { chunk, start: fromToken ?? end, end };
  }

  private async joinedRoomIds(userId: string): Promise<string[]> {
    return (await this.store.memberships.roomsForUser(userId, ['join'])).map((m) => m.roomId);
  }

  /**
   * The oldest `pageSize` events of `roomIds` after `after` (up to `upTo`)
   * that the user may see, with room_id, and the position the next page
   * starts after: the last event read when the page is full, else `upTo`.
   */
  private async roomEventsPage(who: Who, roomIds: readonly string[], after: number, upTo: number, pageSize: number): Promise<{ events: JsonObject[]; end: number }> {
    const read = await this.store.events.getEventsByStream(roomIds, after, upTo, pageSize, 'forward');
    const end = read.length === pageSize ? read.at(-1)!.streamOrdering : upTo;
    const visible = await this.visibility.filterVisible(who.userId, read);
    const serialized = await this.sync.serializer.serialize(visible, { ...who, filter: DEFAULT_FILTER });
    return { events: serialized.map((e, i) => legacyEvent(e, visible[i]!.roomId)), end };
  }

  /** # GET /initialSync */
  async initialSync(who: Who, limit: number, archived: boolean): Promise<JsonObject> {
    const filter = parseFilter({ room: { include_leave: archived, timeline: { limit: Math.max(1, limit) } } });
    const body = (await this.sync.sync({ ...who, timeoutMs: 0, fullState: false, filter, setPresence: 'offline' })) as SyncBody;
    const rooms = (['join', 'invite', 'leave'] as const).flatMap((section) =>
      Object.entries(body.rooms[section]).map(([roomId, room]) => this.roomInfo(roomId, section, room, body.next_batch, limit)),
    );
    const receipts = Object.entries(body.rooms.join).flatMap(([roomId, room]) => receiptsOf(room).map((e) => ({ ...e, room_id: roomId })));
    // As Synapse's snapshot: the receipts of the joined rooms beside the spec's fields.
    return { end: body.next_batch, rooms, presence: legacyPresence(body.presence.events), account_data: body.account_data.events, receipts };
  }

  /**
   * # GET /rooms/{roomId}/initialSync: one room, for a member or former
   * member — or for anyone while its history is world_readable (a peek).
   */
  async roomInitialSync(who: Who, roomId: string, limit: number): Promise<JsonObject> {
    const membership = await this.store.memberships.getMembership(roomId, who.userId);
    if (!membership && (await this.visibility.isWorldReadable(roomId))) return this.peek(who, roomId, limit);
    if (!membership || membership.forgotten || membership.membership === 'knock') throw forbidden(`${who.userId} is not in ${roomId}`);
    const filter = parseFilter({ room: { rooms: [roomId], include_leave: true, timeline: { limit: Math.max(1, limit) } } });
    const body = (await this.sync.sync({ ...who, timeoutMs: 0, fullState: false, filter, setPresence: 'offline' })) as SyncBody;
    const section = (['join', 'invite', 'leave'] as const).find((s) => body.rooms[s][roomId]);
    if (!section) throw forbidden(`${who.userId} is not in ${roomId}`);
    const info = this.roomInfo(roomId, section, body.rooms[section][roomId]!, body.next_batch, limit);
    // As Synapse: receipts and presence only of a room the user is in. Once
    // they left, its members' presence is no longer theirs to see: it "is
    // published to all users who share a room" (modules/presence.md).
    // /sync files a ban under `leave`; this endpoint names it (room_initial_sync.yaml).
    if (section !== 'join') return { ...info, ...(membership.membership === 'ban' && { membership: 'ban' }), presence: [], receipts: [] };
    const members = new Set(
      ((info.state as JsonObject[]) ?? []).filter((e) => e.type === 'm.room.member' && (e.content as JsonObject).membership === 'join').map((e) => e.state_key),
    );
    // As Synapse: every member's presence, offline for one never seen.
    return { ...info, presence: legacyPresence(await this.presence.currentPresenceEvents([...members] as string[])), receipts: receiptsOf(body.rooms.join[roomId]!) };
  }

  /**
   * A world_readable room seen from outside (as Synapse, no `membership`):
   * its newest events the peeker may see — history visibility decides which,
   * as on every read path — its current state, and its members' presence.
   */
  private async peek(who: Who, roomId: string, limit: number): Promise<JsonObject> {
    const to = this.sync.currentPositions();
    const reader = { ...who, filter: DEFAULT_FILTER };
    const [timelines, state, members, receipts] = await Promise.all([
      this.sync.timelines.read(who.userId, [{ roomId, after: 0, upTo: to.events }], Math.max(1, limit), () => true),
      this.store.currentState.getCurrentStateEvents(roomId),
      this.store.memberships.membersOfRoom(roomId, 'join'),
      this.receipts.receiptsForRooms([roomId], who.userId),
    ]);
    const timeline = timelines.get(roomId)?.events ?? [];
    const first = timeline[0];
    const section: RoomSection = {
      timeline: { events: await this.sync.serializer.serialize(timeline, reader), prev_batch: paginationToken(first ? first.streamOrdering - 1 : to.events) },
      state: { events: await this.sync.serializer.serialize(state.filter((e) => e.streamOrdering <= to.events), reader) },
    };
    const { membership: _peeker, ...info } = this.roomInfo(roomId, 'join', section, formatSyncToken(to), limit);
    const receipt = receipts.get(roomId);
    return {
      ...info,
      presence: legacyPresence(await this.presence.currentPresenceEvents(members.map((m) => m.userId))),
      receipts: receipt ? [{ type: 'm.receipt', content: receipt as unknown as JsonObject }] : [],
    };
  }

  private roomInfo(roomId: string, section: 'join' | 'invite' | 'leave', room: RoomSection & { invite_state?: { events: JsonObject[] } }, end: string, limit: number): JsonObject {
    const withRoom = (e: JsonObject): JsonObject => legacyEvent(e, roomId);
    if (section === 'invite') {
      const stripped = room.invite_state?.events ?? [];
      const own = stripped.at(-1);
      return { room_id: roomId, membership: 'invite', state: stripped.map(withRoom), ...(own && { invite: withRoom(own) }) };
    }
    const timeline = (room.timeline?.events ?? []).map(withRoom);
    // A filter's limit is at least 1; limit=0 asks for state alone.
    const messages = limit === 0 ? [] : timeline;
    // old_sync.yaml: `state` is the room's state at the end of `messages`.
    const byKey = new Map<string, JsonObject>();
    for (const e of [...(room.state?.events ?? []).map(withRoom), ...timeline]) {
      if (typeof e.state_key === 'string') byKey.set(JSON.stringify([e.type, e.state_key]), e);
    }
    const state = [...byKey.values()];
    const joinRule = state.find((e) => e.type === 'm.room.join_rules');
    return {
      room_id: roomId,
      membership: section,
      messages: { chunk: messages, start: limit === 0 ? end : (room.timeline?.prev_batch ?? end), end },
      state,
      account_data: room.account_data?.events ?? [],
      visibility: (joinRule?.content as JsonObject | undefined)?.join_rule === 'public' ? 'public' : 'private',
    };
  }
}

/** The m.receipt events of a room's section of a sync response. */
function receiptsOf(room: RoomSection): JsonObject[] {
  return (room.ephemeral?.events ?? []).filter((e) => e.type === 'm.receipt');
}

/**
 * An event as the legacy APIs serve it: with its room, and its sender also
 * as `user_id` (the v1 name, which Synapse still adds there and old clients read).
 */
function legacyEvent(event: JsonObject, roomId: string): JsonObject {
  return { ...event, room_id: roomId, ...(typeof event.sender === 'string' && { user_id: event.sender }) };
}

/** As Synapse's legacy APIs: presence content also names its user, which clients of these APIs read. */
function legacyPresence(events: readonly JsonObject[]): JsonObject[] {
  return events.map((e) => ({ ...e, content: { ...(e.content as JsonObject), user_id: e.sender } }));
}
