// Which room events a user is served, and in what form: the one rule every
// read path applies (/sync and sliding sync timelines, /messages, /context,
// /event, relations and threads, search, notifications, the legacy /events).
//
// For each event, in order (as Synapse's filter_events_for_client):
//  1. ignore_users.md: a non-state event from a user the reader ignores is
//     never served ("the client will no longer receive events sent by that
//     user, with the exception of state events").
//  2. history_visibility.md, "Server behaviour": the room's state *before the
//     event* decides (core/history-visibility.ts has the rules). A member
//     who is joined now is also served any event of the room's current state
//     — they may read it with GET /state anyway, and /sync places it in the
//     timeline where it falls (as Synapse's sync does).
//  3. POST /account/deactivate with `erase`: an erased sender's event reaches
//     a reader who was not joined when it was sent only redacted (Synapse).
//
// It is batched for /sync: per call, one query for the state keys it needs
// of all distinct snapshots before the events (cached: snapshots never
// change), one for the history_visibility and membership events those name
// (cached: events never change), one for the user's last joins to rooms they
// are not in now, and cached reads of the user's memberships, ignored users
// and the senders' erasure flags. Nothing is read per event.
//
// Federation asks the same of a server ("may server X see event E") in
// federation/inbound/room-queries.ts: the state before the event, the member
// keys of X's users, and core's serverMaySee deciding.
import { canonicalJson } from '../../core/canonical-json.js';
import { forbidden, notFound } from '../../core/errors.js';
import { historyVisibilityOf, userMaySee, type HistoryVisibilityValue, type UserVerdict, type UserViewOfEvent } from '../../core/history-visibility.js';
import { redactEvent } from '../../core/redaction.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import { stateKeyString, type JsonObject, type PDU } from '../../core/types.js';
import type { RoomMembership, RoomStore, StoredEvent } from '../../storage/rooms/index.js';

export { historyVisibilityOf, type HistoryVisibilityValue } from '../../core/history-visibility.js';

export interface VisibilityDeps {
  store: RoomStore;
  /** The users `userId` ignores (m.ignored_user_list). */
  ignoredUsers(userId: string): Promise<ReadonlySet<string>>;
  /** Which of these users asked for their data to be erased. */
  erasedAmong(userIds: Iterable<string>): Promise<ReadonlySet<string>>;
}

/** What the state before one event says about the reader. */
interface StateBefore {
  visibility: HistoryVisibilityValue;
  /** The reader's membership then; undefined if they had no member event. */
  membership: string | undefined;
}

const HISTORY_VISIBILITY_KEY = stateKeyString('m.room.history_visibility', '');
const CACHE_LIMIT = 50_000;

export class HistoryVisibility {
  /** `${snapshot}\0${state key}` → event ID (null: the snapshot lacks the key). */
  private readonly snapshotEntries = new Map<string, string | null>();
  /** history_visibility value by m.room.history_visibility event ID. */
  private readonly visibilityValues = new Map<string, HistoryVisibilityValue>();
  /** membership by m.room.member event ID. */
  private readonly membershipValues = new Map<string, string | undefined>();
  private readonly rules = new Map<string, RoomVersionRules>();

  constructor(private readonly deps: VisibilityDeps) {}

  /**
   * `events` as `userId` may be served them, in the same order: those they
   * may not see left out, those of erased senders redacted where the rule
   * says so (copies; stored events are never changed).
   */
  async filterVisible(userId: string, events: readonly StoredEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const [ignored, memberships] = await Promise.all([this.deps.ignoredUsers(userId), this.deps.store.memberships.roomsForUser(userId)]);
    const candidates = events.filter((e) => e.stateKey !== null || e.sender === userId || !ignored.has(e.sender));
    const current = new Map(memberships.map((m) => [m.roomId, m]));
    const [states, lastJoins] = await Promise.all([this.statesBefore(userId, candidates), this.lastJoinsOutside(userId, candidates, current)]);
    const verdicts = candidates.map((event, i) => this.verdict(userId, event, states[i]!, joinedAfter(event, current.get(event.roomId), lastJoins)));
    const currentState = await this.currentStateOfJoinedRooms(candidates.filter((e, i) => !verdicts[i]!.visible && current.get(e.roomId)?.membership === 'join'));
    const served = candidates
      .map((event, i) => ({ event, verdict: verdicts[i]! }))
      .filter(({ event, verdict }) => verdict.visible || currentState.has(event.eventId));
    const erased = await this.deps.erasedAmong(new Set(served.filter(({ verdict }) => !verdict.joined).map(({ event }) => event.sender)));
    const out: StoredEvent[] = [];
    for (const { event, verdict } of served) out.push(!verdict.joined && erased.has(event.sender) ? await this.pruned(event) : event);
    return out;
  }

  /** The event as `userId` may be served it, or undefined if they may not see it. */
  async visibleForm(userId: string, event: StoredEvent): Promise<StoredEvent | undefined> {
    return (await this.filterVisible(userId, [event]))[0];
  }

  /** The users `userId` ignores, whose non-state events rule 1 drops (bundled aggregations leave them out too). */
  ignoredBy(userId: string): Promise<ReadonlySet<string>> {
    return this.deps.ignoredUsers(userId);
  }

  async canSee(userId: string, event: StoredEvent): Promise<boolean> {
    return (await this.visibleForm(userId, event)) !== undefined;
  }

  /**
   * Who may read a room's timeline at all: anyone who is or was in it (their
   * events are then filtered as above), or anyone while the room is
   * world_readable. 403 otherwise (404 for a room unknown here).
   */
  async requireReadableRoom(userId: string, roomId: string): Promise<void> {
    const { store } = this.deps;
    if (await store.memberships.getMembership(roomId, userId)) return;
    if (await this.isWorldReadable(roomId)) return;
    if (!(await store.rooms.getRoom(roomId))) throw notFound(`Unknown room ${roomId}`);
    throw forbidden(`${userId} has never been in ${roomId} and its history is not world readable`);
  }

  /** Whether the room's history is world_readable now: anyone may read (peek into) it. */
  async isWorldReadable(roomId: string): Promise<boolean> {
    const visibility = await this.deps.store.currentState.getCurrentStateEvent(roomId, 'm.room.history_visibility', '');
    return visibility !== undefined && historyVisibilityOf(contentOf(visibility)) === 'world_readable';
  }

  /**
   * The event as `userId` may be served it. An unknown event, or one of
   * another room than `roomId` (undefined: any room), is 404; one they may
   * not see is 404 too (rooms.yaml GET /event: "not found or you do not have
   * permission to read this event"), or 403 where the endpoint distinguishes
   * the two.
   */
  async requireVisibleEvent(userId: string, roomId: string | undefined, eventId: string, hidden: 'not_found' | 'forbidden' = 'not_found'): Promise<StoredEvent> {
    const where = roomId === undefined ? '' : ` in ${roomId}`;
    const event = await this.deps.store.events.getEvent(eventId);
    if (!event || (roomId !== undefined && event.roomId !== roomId) || event.outlier || event.rejectedReason !== null) {
      throw notFound(`Event ${eventId} not found${where}`);
    }
    const served = await this.visibleForm(userId, event);
    if (served) return served;
    if (hidden === 'forbidden') throw forbidden(`You may not see event ${eventId}: history visibility or an ignore hides it from you`);
    throw notFound(`Event ${eventId} not found${where}, or you may not see it`);
  }

  private verdict(userId: string, event: StoredEvent, before: StateBefore, joinedLater: boolean): UserVerdict {
    const view: UserViewOfEvent = { ...before, joinedLater };
    // The two kinds of event judged on both sides of themselves (only these are parsed).
    if (event.type === 'm.room.history_visibility' && event.stateKey === '') view.visibilitySet = historyVisibilityOf(contentOf(event));
    if (event.type === 'm.room.member' && event.stateKey === userId) view.membershipSet = membershipIn(contentOf(event)) ?? 'leave';
    return userMaySee(view);
  }

  /** The state before each event, from the few keys it needs of each distinct snapshot. */
  private async statesBefore(userId: string, events: readonly StoredEvent[]): Promise<StateBefore[]> {
    const memberKey = stateKeyString('m.room.member', userId);
    const snapshots = [...new Set(events.map((e) => e.stateSnapshotBefore).filter((id): id is number => id !== null))];
    const entries = await this.snapshotKeys(snapshots, [HISTORY_VISIBILITY_KEY, memberKey]);
    const entry = (snapshot: number, key: string) => entries.get(`${snapshot}\0${key}`) ?? null;
    const ids = snapshots.flatMap((s) => [entry(s, HISTORY_VISIBILITY_KEY), entry(s, memberKey)]).filter((id): id is string => id !== null);
    await this.loadValues(ids);
    return events.map((event) => {
      // An event without a recorded state (never the case for timeline events) reads as an empty room.
      const snapshot = event.stateSnapshotBefore;
      if (snapshot === null) return { visibility: 'shared', membership: undefined };
      const visibilityId = entry(snapshot, HISTORY_VISIBILITY_KEY);
      const memberId = entry(snapshot, memberKey);
      return {
        visibility: visibilityId === null ? 'shared' : (this.visibilityValues.get(visibilityId) ?? 'shared'),
        membership: memberId === null ? undefined : this.membershipValues.get(memberId),
      };
    });
  }

  /** `keys` of each snapshot, through the cache; one query for all the misses. */
  private async snapshotKeys(snapshots: readonly number[], keys: readonly string[]): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    const missing: number[] = [];
    for (const snapshot of snapshots) {
      for (const key of keys) {
        const cacheKey = `${snapshot}\0${key}`;
        const hit = this.snapshotEntries.get(cacheKey);
        if (hit === undefined) missing.push(snapshot);
        else found.set(cacheKey, hit);
      }
    }
    if (missing.length === 0) return found;
    const loaded = await this.deps.store.snapshots.lookupKeys([...new Set(missing)], keys);
    for (const [snapshot, state] of loaded) {
      for (const key of keys) {
        const cacheKey = `${snapshot}\0${key}`;
        const value = state.get(key) ?? null;
        found.set(cacheKey, value);
        remember(this.snapshotEntries, cacheKey, value);
      }
    }
    return found;
  }

  /** Reads the history_visibility and membership values of events not yet cached. */
  private async loadValues(eventIds: readonly string[]): Promise<void> {
    const missing = [...new Set(eventIds)].filter((id) => !this.visibilityValues.has(id) && !this.membershipValues.has(id));
    if (missing.length === 0) return;
    for (const event of (await this.deps.store.events.getEvents(missing)).values()) {
      if (event.type === 'm.room.history_visibility') remember(this.visibilityValues, event.eventId, historyVisibilityOf(contentOf(event)));
      else remember(this.membershipValues, event.eventId, membershipIn(contentOf(event)));
    }
  }

  /**
   * Rule 3 asks whether the user joined after an event. Someone joined now
   * did (or was joined at it); for rooms they are not joined to now, their
   * last join is read, for those rooms alone.
   */
  private async lastJoinsOutside(userId: string, events: readonly StoredEvent[], current: ReadonlyMap<string, RoomMembership>): Promise<Map<string, number>> {
    const rooms = [...new Set(events.map((e) => e.roomId))].filter((roomId) => current.get(roomId)?.membership !== 'join');
    return rooms.length === 0 ? new Map() : this.deps.store.events.lastJoins(userId, rooms);
  }

  private async currentStateOfJoinedRooms(denied: readonly StoredEvent[]): Promise<Set<string>> {
    const state = denied.filter((e) => e.stateKey !== null);
    return state.length === 0 ? new Set() : this.deps.store.currentState.whichAreCurrent(state);
  }

  /** The event as the redaction algorithm of its room version leaves it. */
  private async pruned(event: StoredEvent): Promise<StoredEvent> {
    const rules = await this.rulesFor(event.roomId);
    const pdu = redactEvent(JSON.parse(event.json) as PDU, rules);
    return { ...event, json: canonicalJson(pdu as unknown as JsonObject, { strict: rules.strictCanonicalJson }) };
  }

  private async rulesFor(roomId: string): Promise<RoomVersionRules> {
    let rules = this.rules.get(roomId);
    if (!rules) {
      const record = await this.deps.store.rooms.getRoom(roomId);
      rules = record && roomVersion(record.roomVersion);
      if (!rules) throw new Error(`no known room version for ${roomId}, whose events are stored`);
      remember(this.rules, roomId, rules);
    }
    return rules;
  }
}

function joinedAfter(event: StoredEvent, current: RoomMembership | undefined, lastJoins: ReadonlyMap<string, number>): boolean {
  if (current?.membership === 'join') return true;
  const lastJoin = lastJoins.get(event.roomId);
  return lastJoin !== undefined && lastJoin > event.streamOrdering;
}

/** Caches hold immutable facts; past the limit they start over (cheap, and the working set refills). */
function remember<K, V>(cache: Map<K, V>, key: K, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

function contentOf(event: StoredEvent): JsonObject {
  return (JSON.parse(event.json) as { content?: JsonObject }).content ?? {};
}

function membershipIn(content: JsonObject): string | undefined {
  return typeof content.membership === 'string' ? content.membership : undefined;
}
