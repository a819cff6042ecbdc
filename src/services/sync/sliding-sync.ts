// Simplified sliding sync (MSC4186), served at POST /_matrix/client/unstable/
// org.matrix.simplified_msc3575/sync — what Element X uses. The client asks
// for windows (`ranges`) over lists of its rooms sorted by recency, plus
// explicit `room_subscriptions`; each room comes with the `required_state`
// it named and its newest `timeline_limit` events. Positions (`pos`) name a
// per-connection record of which rooms the client already has, under which
// required_state and up to which point, so later requests send those rooms
// only what changed — plus any state a widened required_state now asks for.
// An unknown `pos` (e.g. after a restart) is M_UNKNOWN_POS, which tells the
// client to start afresh.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { MatrixError } from '../../core/errors.js';
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import type { NotificationStore } from '../../storage/push/notifications.js';
import type { RoomMembership, RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { DEFAULT_FILTER } from '../filters/index.js';
import { STREAMS, type Notifier } from '../notifier.js';
import type { AccountDataService, ReceiptService, TypingService } from '../user-data/index.js';
import { contentOf, type SyncEventSerializer } from './events.js';
import { roomSummary, strippedEvent, STRIPPED_STATE_TYPES } from './room-summary.js';
import type { SyncService } from './sync-service.js';
import type { EncryptionSources } from './streams/encryption.js';
import { stateEventsAtDeparture } from '../rooms/departure.js';
import { isValidSpaceChild } from '../rooms/spaces.js';
import { paginationToken } from '../rooms/timeline.js';
import type { Timeline } from './timelines.js';
import type { StreamPositions } from './token.js';

/** Events that move a room up the list (Synapse's default bump event types). */
export const BUMP_EVENT_TYPES: readonly string[] = [
  'm.room.create',
  'm.room.message',
  'm.room.encrypted',
  'm.sticker',
  'm.call.invite',
  'm.poll.start',
  'm.beacon_info',
];

export type RequiredState = ReadonlyArray<readonly [string, string]>;

export interface RoomConfig {
  requiredState: RequiredState;
  timelineLimit: number;
}

/**
 * MSC4186 list filters, all ANDed; an absent field does not filter. Lists
 * within one field are ORed, and the `not_` form wins over its positive one.
 */
export interface ListFilters {
  isDm?: boolean;
  isInvite?: boolean;
  isEncrypted?: boolean;
  /** m.room.create `type`s to keep; `null` stands for rooms without a type. */
  roomTypes?: ReadonlyArray<string | null>;
  notRoomTypes?: ReadonlyArray<string | null>;
  /** Keep only rooms that are m.space.child of one of these spaces (which the user must have joined). */
  spaces?: readonly string[];
  /** Keep only rooms with one of these m.tag tags. */
  tags?: readonly string[];
  notTags?: readonly string[];
}

export interface ListRequest extends RoomConfig {
  ranges: ReadonlyArray<readonly [number, number]>;
  filters: ListFilters;
}

export interface SlidingSyncRequest {
  userId: string;
  deviceId: string;
  connId: string;
  pos?: string;
  timeoutMs: number;
  lists: ReadonlyMap<string, ListRequest>;
  roomSubscriptions: ReadonlyMap<string, RoomConfig>;
  extensions: { accountData: boolean; receipts: boolean; typing: boolean; toDevice?: { since?: string; limit: number }; e2ee: boolean };
  signal?: AbortSignal;
}

/** What the client holds of one room it was sent on this connection. */
interface SentRoom {
  /** The required_state of the last request that covered the room: the client holds the state it selects. */
  requiredState: RequiredState;
  /** The events-stream position up to which the client has the room's timeline and state. */
  upTo: number;
}

interface ConnectionPosition {
  positions: StreamPositions;
  /** Rooms the client holds as of this position. */
  sentRooms: ReadonlyMap<string, SentRoom>;
}

interface Connection {
  nextPos: number;
  positions: Map<string, ConnectionPosition>;
}

/** A client may retry an older pos (a lost response); keep this many per connection. */
const POSITIONS_KEPT = 5;
/** Connections kept in memory before the least recently used is dropped. */
const MAX_CONNECTIONS = 10_000;
const ROOM_LIMIT_MAX = 100;

export interface SlidingSyncDeps {
  store: RoomStore;
  notifier: Notifier;
  sync: SyncService;
  serializer: SyncEventSerializer;
  accountDataStore: AccountDataStore;
  accountData: Pick<AccountDataService, 'ignoredUsers'>;
  typing: TypingService;
  receipts: ReceiptService;
  notifications: NotificationStore;
  encryption: EncryptionSources;
  clock: () => number;
}

export class SlidingSyncService {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly deps: SlidingSyncDeps) {}

  async sync(request: SlidingSyncRequest): Promise<JsonObject> {
    const key = JSON.stringify([request.userId, request.deviceId, request.connId]);
    const connection = this.connection(key, request.pos === undefined);
    const previous = request.pos === undefined ? undefined : connection.positions.get(request.pos);
    if (request.pos !== undefined && !previous) {
      throw new MatrixError(400, 'M_UNKNOWN_POS', `Unknown position '${request.pos}': start a new sliding sync session without 'pos'`);
    }
    const deadline = this.deps.clock() + Math.max(0, request.timeoutMs);
    for (;;) {
      const to = this.deps.sync.currentPositions();
      const pass = await this.compute(request, previous, to);
      const remaining = deadline - this.deps.clock();
      if (!previous || pass.hasNews || remaining <= 0 || request.signal?.aborted || this.deps.notifier.closed) {
        const pos = String(connection.nextPos++);
        connection.positions.set(pos, { positions: to, sentRooms: new Map([...(previous?.sentRooms ?? []), ...pass.sentRooms]) });
        for (const old of [...connection.positions.keys()].slice(0, -POSITIONS_KEPT)) connection.positions.delete(old);
        return { pos, ...pass.body };
      }
      if (STREAMS.some((s) => this.deps.notifier.position(s) > to[s])) continue;
      await this.deps.notifier.waitForChange(request.userId, new Set(pass.joinedRoomIds), remaining, request.signal);
    }
  }

  private connection(key: string, fresh: boolean): Connection {
    let connection = this.connections.get(key);
    if (connection) this.connections.delete(key); // re-inserted below: most recently used last
    if (!connection || fresh) connection = { nextPos: connection?.nextPos ?? 1, positions: new Map() };
    this.connections.set(key, connection);
    if (this.connections.size > MAX_CONNECTIONS) this.connections.delete(this.connections.keys().next().value!);
    return connection;
  }

  private async compute(request: SlidingSyncRequest, previous: ConnectionPosition | undefined, to: StreamPositions) {
    const since = previous?.positions;
    const memberships = await this.withoutIgnoredInvites(
      request.userId,
      (await this.deps.store.memberships.roomsForUser(request.userId)).filter(
        (m) =>
          !m.forgotten &&
          m.streamOrdering <= to.events &&
          (m.membership === 'join' || m.membership === 'invite' || m.membership === 'knock' || (since !== undefined && m.streamOrdering > since.events)),
      ),
    );
    const byRoom = new Map(memberships.map((m) => [m.roomId, m]));
    const joinedRoomIds = memberships.filter((m) => m.membership === 'join').map((m) => m.roomId);
    const bumps = await this.bumpStamps(memberships, to);

    const lists: JsonObject = {};
    const configs = new Map<string, RoomConfig>();
    for (const [name, list] of request.lists) {
      const rooms = (await this.applyFilters(request.userId, memberships, list.filters)).sort(
        (a, b) => (bumps.get(b.roomId) ?? 0) - (bumps.get(a.roomId) ?? 0) || a.roomId.localeCompare(b.roomId),
      );
      lists[name] = { count: rooms.length };
      for (const [start, end] of list.ranges) {
        for (const m of rooms.slice(start, end + 1)) mergeConfig(configs, m.roomId, list);
      }
    }
    for (const [roomId, config] of request.roomSubscriptions) if (byRoom.has(roomId)) mergeConfig(configs, roomId, config);

    const rooms: JsonObject = {};
    const sentRooms = new Map<string, SentRoom>();
    const counts = await this.deps.notifications.countsFor(request.userId, [...configs.keys()]);
    for (const [roomId, config] of configs) {
      const membership = byRoom.get(roomId)!;
      const sent = previous?.sentRooms.get(roomId);
      const room =
        sent && !newlyJoined(membership, sent)
          ? await this.roomUpdate(request, membership, config, sent, since!, to)
          : await this.initialRoom(request, membership, config, to);
      // A room already sent is up to date even when it has no news (the
      // client holds everything up to `to` under the new required_state).
      if (room || sent) sentRooms.set(roomId, { requiredState: config.requiredState, upTo: to.events });
      if (!room) continue;
      const c = counts.get(roomId);
      Object.assign(room, { notification_count: c?.notification_count ?? 0, highlight_count: c?.highlight_count ?? 0, bump_stamp: bumps.get(roomId) ?? 0 });
      rooms[roomId] = room;
    }
    const extensions = await this.extensions(request, [...configs.keys()].filter((id) => byRoom.get(id)?.membership === 'join'), since, to);
    const hasNews = Object.keys(rooms).length > 0 || extensionsHaveNews(extensions);
    return { body: { lists, rooms, extensions } as JsonObject, sentRooms, joinedRoomIds, hasNews };
  }

  /** ignore_users.md: "Servers must not send room invites from ignored users to clients." */
  private async withoutIgnoredInvites(userId: string, memberships: RoomMembership[]): Promise<RoomMembership[]> {
    const invites = memberships.filter((m) => m.membership === 'invite');
    if (invites.length === 0) return memberships;
    const ignored = await this.deps.accountData.ignoredUsers(userId);
    if (ignored.size === 0) return memberships;
    const events = await this.deps.store.events.getEvents(invites.map((m) => m.eventId));
    const fromIgnored = new Set(invites.filter((m) => ignored.has(events.get(m.eventId)?.sender ?? '')).map((m) => m.eventId));
    return memberships.filter((m) => !fromIgnored.has(m.eventId));
  }

  private async bumpStamps(memberships: readonly RoomMembership[], to: StreamPositions): Promise<Map<string, number>> {
    const joined = memberships.filter((m) => m.membership === 'join').map((m) => m.roomId);
    const latest = await this.deps.store.events.latestPositionPerRoom(joined, BUMP_EVENT_TYPES, to.events);
    // A room the user is not in (yet) ranks by their own membership change.
    return new Map(memberships.map((m) => [m.roomId, (m.membership === 'join' ? latest.get(m.roomId) : undefined) ?? m.streamOrdering]));
  }

  private async applyFilters(userId: string, memberships: readonly RoomMembership[], filters: ListFilters): Promise<RoomMembership[]> {
    let rooms = [...memberships];
    if (filters.isInvite !== undefined) rooms = rooms.filter((m) => (m.membership === 'invite') === filters.isInvite);
    if (filters.isDm !== undefined) {
      const dms = directRooms(await this.deps.accountDataStore.getGlobal(userId, 'm.direct'));
      rooms = rooms.filter((m) => dms.has(m.roomId) === filters.isDm);
    }
    if (filters.isEncrypted !== undefined) {
      const states = await this.deps.store.currentState.getCurrentStateEventsForRooms(rooms.map((m) => m.roomId), { types: ['m.room.encryption'] });
      rooms = rooms.filter((m) => (states.get(m.roomId)?.length ?? 0) > 0 === filters.isEncrypted);
    }
    if (filters.roomTypes !== undefined || filters.notRoomTypes !== undefined) {
      const types = await this.roomTypes(rooms.map((m) => m.roomId));
      rooms = rooms.filter((m) => {
        // A room whose type cannot be known (no create event) matches no type filter, as in Synapse.
        if (!types.has(m.roomId)) return false;
        const type = types.get(m.roomId)!;
        return (filters.roomTypes?.includes(type) ?? true) && !(filters.notRoomTypes?.includes(type) ?? false);
      });
    }
    if (filters.spaces !== undefined) {
      const children = await this.spaceChildren(filters.spaces, memberships);
      rooms = rooms.filter((m) => children.has(m.roomId));
    }
    if (filters.tags !== undefined || filters.notTags !== undefined) {
      const tags = roomTags(await this.deps.accountDataStore.listRooms(userId));
      const hasAny = (roomId: string, wanted: readonly string[]) => wanted.some((tag) => tags.get(roomId)?.has(tag) ?? false);
      rooms = rooms.filter((m) => (filters.tags === undefined || hasAny(m.roomId, filters.tags)) && !(filters.notTags !== undefined && hasAny(m.roomId, filters.notTags)));
    }
    return rooms;
  }

  /**
   * Each room's type: its m.room.create `type`, or null when it has none (a
   * non-string type is no type, as the directory treats it). Rooms without a
   * create event are absent. Invites and knocks read the same current state
   * their stripped state is built from (every room is local until federation).
   */
  private async roomTypes(roomIds: readonly string[]): Promise<Map<string, string | null>> {
    const creates = await this.deps.store.currentState.getCurrentStateEventsForRooms(roomIds, { types: ['m.room.create'] });
    const types = new Map<string, string | null>();
    for (const [roomId, [create]] of creates) {
      if (!create) continue;
      const type = contentOf(create).type;
      types.set(roomId, typeof type === 'string' ? type : null);
    }
    return types;
  }

  /**
   * The rooms named by the current m.space.child events of the listed spaces.
   * MSC4186 (via MSC3575's filter): only spaces the user has joined count,
   * others are ignored; subspaces are not followed; a child whose `via` is
   * missing or invalid is not part of the space (spaces.md, m.space.child).
   */
  private async spaceChildren(spaceIds: readonly string[], memberships: readonly RoomMembership[]): Promise<Set<string>> {
    const joined = new Set(memberships.filter((m) => m.membership === 'join').map((m) => m.roomId));
    const spaces = spaceIds.filter((id) => joined.has(id));
    const states = await this.deps.store.currentState.getCurrentStateEventsForRooms(spaces, { types: ['m.space.child'] });
    const children = new Set<string>();
    for (const events of states.values()) {
      for (const event of events) if (event.stateKey !== null && isValidSpaceChild(contentOf(event))) children.add(event.stateKey);
    }
    return children;
  }

  private async initialRoom(request: SlidingSyncRequest, membership: RoomMembership, config: RoomConfig, to: StreamPositions): Promise<JsonObject | undefined> {
    if (membership.membership !== 'join' && membership.membership !== 'leave' && membership.membership !== 'ban') {
      return this.strippedRoom(membership);
    }
    const upTo = membership.membership === 'join' ? to.events : membership.streamOrdering;
    const { events: timeline, limited } = await this.timeline(request, membership.roomId, 0, upTo, config.timelineLimit);
    const state = await this.stateAsSeen(membership, upTo);
    const room = await this.describe(request, state, timeline, to, limited);
    room.initial = true;
    room.required_state = await this.deps.serializer.serialize(selectState(state, config.requiredState, request.userId, timeline), syncUser(request));
    return room;
  }

  /** A room the client already holds: what happened since it was last brought up to date, and newly required state. */
  private async roomUpdate(request: SlidingSyncRequest, membership: RoomMembership, config: RoomConfig, sent: SentRoom, since: StreamPositions, to: StreamPositions): Promise<JsonObject | undefined> {
    const { store } = this.deps;
    if (membership.membership === 'invite' || membership.membership === 'knock') {
      return membership.streamOrdering > sent.upTo ? this.strippedRoom(membership) : undefined;
    }
    const upTo = membership.membership === 'join' ? to.events : membership.streamOrdering;
    const { events: timeline, limited } = await this.timeline(request, membership.roomId, sent.upTo, upTo, config.timelineLimit);
    if (timeline.length === 0 && !limited && !asksForMore(sent.requiredState, config.requiredState)) return undefined;
    const changedState = (await store.events.stateEventsBetween(membership.roomId, sent.upTo, upTo + 1)).filter((e) => e.streamOrdering <= upTo);
    const visible = await this.stateAsSeen(membership, upTo);
    // MSC4186: required_state carries the state changes since the last response
    // (not the timeline's order), and, when the request widened required_state,
    // the current state it newly asks for even if that did not change (Synapse:
    // "room config expanded"). A narrower request needs nothing resent.
    const changed = new Set(changedState.map((e) => e.eventId));
    const held = new Set(selectState(visible, sent.requiredState, request.userId, timeline).map((e) => e.eventId));
    const required = selectState(visible, config.requiredState, request.userId, timeline).filter((e) => changed.has(e.eventId) || !held.has(e.eventId));
    if (timeline.length === 0 && !limited && required.length === 0) return undefined;
    const room = await this.describe(request, visible, timeline, to, limited);
    room.required_state = await this.deps.serializer.serialize(required, syncUser(request));
    // Live events are those since the client's last response; a room coming
    // back into a range also brings what it missed while out of it.
    room.num_live = timeline.filter((e) => e.streamOrdering > since.events).length;
    return room;
  }

  /** The room's newest events in (after, upTo] that the user may be served (rooms/visibility.ts). */
  private async timeline(request: SlidingSyncRequest, roomId: string, after: number, upTo: number, limit: number): Promise<Timeline> {
    const timelines = await this.deps.sync.timelines.read(request.userId, [{ roomId, after, upTo }], limit, () => true);
    return timelines.get(roomId) ?? { events: [], limited: false, membersChanged: false };
  }

  /**
   * The room's current state for a member (what had landed by `upTo`, the
   * positions this response covers); for a user who left or was banned, the
   * state as they left it.
   */
  private async stateAsSeen(membership: RoomMembership, upTo: number): Promise<StoredEvent[]> {
    const { store } = this.deps;
    if (membership.membership === 'join') {
      return (await store.currentState.getCurrentStateEvents(membership.roomId)).filter((e) => e.streamOrdering <= upTo);
    }
    const departure = await store.events.getEvent(membership.eventId);
    return (departure && (await stateEventsAtDeparture(store, departure))) ?? [];
  }

  /** Name, avatar, heroes, counts and the timeline of a room the user is (or was) in. */
  private async describe(request: SlidingSyncRequest, state: readonly StoredEvent[], timeline: readonly StoredEvent[], to: StreamPositions, limited: boolean): Promise<JsonObject> {
    const find = (type: string) => state.find((e) => e.type === type && e.stateKey === '');
    const members = state.filter((e) => e.type === 'm.room.member');
    const summary = roomSummary(members, request.userId);
    const room: JsonObject = {
      timeline: await this.deps.serializer.serialize(timeline, syncUser(request)),
      limited,
      num_live: 0,
      joined_count: summary['m.joined_member_count'],
      invited_count: summary['m.invited_member_count'],
    };
    const first = timeline[0];
    room.prev_batch = paginationToken(first ? first.streamOrdering - 1 : to.events);
    const name = find('m.room.name');
    const nameValue = name && contentOf(name).name;
    if (typeof nameValue === 'string' && nameValue !== '') room.name = nameValue;
    const avatar = find('m.room.avatar');
    const avatarUrl = avatar && contentOf(avatar).url;
    if (typeof avatarUrl === 'string' && avatarUrl !== '') room.avatar = avatarUrl;
    if (room.name === undefined) {
      room.heroes = summary['m.heroes'].map((userId) => {
        const member = members.find((e) => e.stateKey === userId);
        const content = member ? contentOf(member) : {};
        const hero: JsonObject = { user_id: userId };
        if (typeof content.displayname === 'string') hero.displayname = content.displayname;
        if (typeof content.avatar_url === 'string') hero.avatar_url = content.avatar_url;
        return hero;
      });
    }
    return room;
  }

  private async strippedRoom(membership: RoomMembership): Promise<JsonObject | undefined> {
    const { store } = this.deps;
    const own = await store.events.getEvent(membership.eventId);
    if (!own) return undefined;
    // A room this server is not in: what the inviting (or knocked-on) server sent of it.
    const remote = (await store.memberships.strippedStates(membership.userId, [membership.roomId])).get(membership.roomId);
    const events = remote ?? (await store.currentState.getCurrentStateEvents(membership.roomId, { types: STRIPPED_STATE_TYPES })).map(strippedEvent);
    events.push(strippedEvent(own));
    const field = membership.membership === 'knock' ? 'knock_state' : 'invite_state';
    return { initial: true, [field]: events, timeline: [], required_state: [] } as JsonObject;
  }

  private async extensions(request: SlidingSyncRequest, roomIds: readonly string[], since: StreamPositions | undefined, to: StreamPositions): Promise<JsonObject> {
    const out: JsonObject = {};
    const { extensions: ext, userId } = request;
    if (ext.accountData) {
      const changes = await this.deps.accountDataStore.changesSince(userId, since?.account_data ?? 0, to.account_data);
      const rooms: Record<string, JsonObject[]> = {};
      const global: JsonObject[] = [];
      for (const c of changes) {
        const event = { type: c.type, content: c.content };
        if (c.roomId === null) global.push(event);
        else (rooms[c.roomId] ??= []).push(event);
      }
      out.account_data = { global, rooms } as unknown as JsonObject;
    }
    if (ext.receipts) {
      const byRoom = await this.deps.receipts.receiptsSince(roomIds, since?.receipts ?? 0, userId);
      const rooms: JsonObject = {};
      for (const [roomId, content] of byRoom) rooms[roomId] = { type: 'm.receipt', content: content as unknown as JsonObject };
      out.receipts = { rooms };
    }
    if (ext.typing) {
      const changed = since ? this.deps.typing.changedRoomsSince(since.typing, roomIds) : roomIds.filter((id) => this.deps.typing.typingSnapshot(id).length > 0);
      const rooms: JsonObject = {};
      for (const roomId of changed) rooms[roomId] = { type: 'm.typing', content: { user_ids: this.deps.typing.typingSnapshot(roomId) } };
      out.typing = { rooms };
    }
    const { encryption } = this.deps;
    if (ext.toDevice) {
      // The extension keeps its own position: the client echoes the last next_batch as `since`.
      const sinceToDevice = ext.toDevice.since !== undefined && /^\d+$/.test(ext.toDevice.since) ? Number(ext.toDevice.since) : 0;
      if (ext.toDevice.since !== undefined) await encryption.toDevice.acknowledge(userId, request.deviceId, sinceToDevice);
      const batch = await encryption.toDevice.messagesFor(userId, request.deviceId, sinceToDevice, to.to_device, ext.toDevice.limit);
      out.to_device = { next_batch: String(batch.nextPosition), events: batch.events.map((e) => ({ type: e.type, sender: e.sender, content: e.content })) };
    }
    if (ext.e2ee) {
      const lists = since ? await encryption.deviceLists.changesSince(userId, since.device_lists, to.device_lists) : { changed: [], left: [] };
      out.e2ee = {
        device_lists: { changed: lists.changed, left: lists.left },
        device_one_time_keys_count: await encryption.keys.oneTimeKeyCounts(userId, request.deviceId),
        device_unused_fallback_key_types: await encryption.keys.unusedFallbackKeyTypes(userId, request.deviceId),
      };
    }
    return out;
  }
}

function syncUser(request: SlidingSyncRequest) {
  return { userId: request.userId, deviceId: request.deviceId, filter: DEFAULT_FILTER };
}

/**
 * A room the user joined after it was last sent (e.g. an accepted invite, a
 * rejoin) starts afresh with `initial` and its full required_state, as
 * Synapse's "newly joined".
 */
function newlyJoined(membership: RoomMembership, sent: SentRoom): boolean {
  return membership.membership === 'join' && membership.streamOrdering > sent.upTo;
}

/**
 * Whether `requested` may select state that `held` did not: some pair is not
 * covered by a held pair with the same or a wildcard type and state key. A
 * cheap test so that a room with no events is only read when it may have
 * newly required state; selectState decides what is actually new.
 */
function asksForMore(held: RequiredState, requested: RequiredState): boolean {
  return requested.some(([type, key]) => !held.some(([t, k]) => (t === '*' || t === type) && (k === '*' || k === key)));
}

/** Rooms in lists and subscriptions combine: the union of required_state and the largest timeline_limit. */
function mergeConfig(configs: Map<string, RoomConfig>, roomId: string, config: RoomConfig): void {
  const existing = configs.get(roomId);
  const timelineLimit = Math.min(ROOM_LIMIT_MAX, config.timelineLimit);
  if (!existing) {
    configs.set(roomId, { requiredState: [...config.requiredState], timelineLimit });
    return;
  }
  configs.set(roomId, { requiredState: [...existing.requiredState, ...config.requiredState], timelineLimit: Math.max(existing.timelineLimit, timelineLimit) });
}

/**
 * MSC4186 required_state: [type, state_key] pairs where `*` matches any
 * value, `$ME` is the user's own ID and, for m.room.member, `$LAZY` means
 * the members who sent something in the timeline.
 */
export function selectState(state: readonly StoredEvent[], required: RequiredState, userId: string, timeline: readonly StoredEvent[]): StoredEvent[] {
  const senders = new Set(timeline.map((e) => e.sender));
  return state.filter((e) =>
    required.some(([type, key]) => {
      if (type !== '*' && type !== e.type) return false;
      if (key === '*') return true;
      if (key === '$ME') return e.stateKey === userId;
      if (key === '$LAZY') return e.type === 'm.room.member' && senders.has(e.stateKey ?? '');
      return e.stateKey === key;
    }),
  );
}

/** Rooms named in m.direct account data (user ID → room IDs). */
function directRooms(content: JsonObject | undefined): Set<string> {
  const rooms = new Set<string>();
  for (const value of Object.values(content ?? {})) {
    if (Array.isArray(value)) for (const id of value as JsonValue[]) if (typeof id === 'string') rooms.add(id);
  }
  return rooms;
}

/** Each room's tag names, from the user's m.tag room account data (tags.md). */
function roomTags(accountData: ReadonlyMap<string, Record<string, JsonObject>>): Map<string, Set<string>> {
  const byRoom = new Map<string, Set<string>>();
  for (const [roomId, types] of accountData) {
    const tags = types['m.tag']?.tags;
    if (typeof tags === 'object' && tags !== null && !Array.isArray(tags)) byRoom.set(roomId, new Set(Object.keys(tags)));
  }
  return byRoom;
}

function extensionsHaveNews(extensions: JsonObject): boolean {
  const data = extensions.account_data as { global?: unknown[]; rooms?: object } | undefined;
  if ((data?.global?.length ?? 0) > 0 || Object.keys(data?.rooms ?? {}).length > 0) return true;
  for (const name of ['receipts', 'typing'] as const) {
    const section = extensions[name] as { rooms?: object } | undefined;
    if (Object.keys(section?.rooms ?? {}).length > 0) return true;
  }
  const toDevice = extensions.to_device as { events?: unknown[] } | undefined;
  const lists = (extensions.e2ee as { device_lists?: { changed: unknown[]; left: unknown[] } } | undefined)?.device_lists;
  return (toDevice?.events?.length ?? 0) > 0 || (lists?.changed.length ?? 0) > 0 || (lists?.left.length ?? 0) > 0;
}
