// History visibility (client-server-api/modules/history_visibility.md): which
// room events a user may see, decided by the room's state *at each event* —
// the m.room.history_visibility in force and the user's membership then.
//
// Every read path that hands out events (/messages, /context, /event,
// relations, threads, /sync, /search) filters through `filterVisible`.
import { stateKeyString, type JsonObject } from '../../core/types.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';

export type HistoryVisibilityValue = 'world_readable' | 'shared' | 'invited' | 'joined';

/** What the state before an event says about one user. */
interface StateAtEvent {
  visibility: HistoryVisibilityValue;
  /** The user's membership then; undefined if they had no member event. */
  membership: string | undefined;
}

/** Snapshots never change once written, so what we read from them may be cached for good. */
interface SnapshotFacts {
  visibility: HistoryVisibilityValue;
  /** The state's member event IDs, by user; kept only for users we were asked about. */
  memberEventIds: Map<string, string | null>;
}

const CACHE_LIMIT = 4096;
const VALUES: readonly string[] = ['world_readable', 'shared', 'invited', 'joined'];

/** Unknown or missing values count as `shared` ("Server behaviour"). */
export function historyVisibilityOf(content: JsonObject | undefined): HistoryVisibilityValue {
  const value = content?.history_visibility;
  return typeof value === 'string' && VALUES.includes(value) ? (value as HistoryVisibilityValue) : 'shared';
}

function contentOf(event: StoredEvent): JsonObject {
  return (JSON.parse(event.json) as { content?: JsonObject }).content ?? {};
}

function membershipIn(content: JsonObject): string | undefined {
  return typeof content.membership === 'string' ? content.membership : undefined;
}

export class HistoryVisibility {
  private readonly snapshots = new Map<number, SnapshotFacts>();
  /** Visibility values by m.room.history_visibility event ID; events are immutable. */
  private readonly visibilityEvents = new Map<string, HistoryVisibilityValue>();

  constructor(private readonly store: RoomStore) {}

  /** `events` without those `userId` may not see, in the same order. */
  async filterVisible(userId: string, events: readonly StoredEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const lastJoins = new Map<string, number | undefined>();
    for (const roomId of new Set(events.map((e) => e.roomId))) {
      lastJoins.set(roomId, await this.store.events.lastJoinStreamOrdering(roomId, userId));
    }
    const states = await this.statesBefore(userId, events);
    return events.filter((event, i) => this.visible(userId, event, states[i]!, lastJoins.get(event.roomId)));
  }

  async canSee(userId: string, event: StoredEvent): Promise<boolean> {
    return (await this.filterVisible(userId, [event])).length === 1;
  }

  /**
   * The rules of "Server behaviour", applied to the state before the event;
   * a history_visibility change and the user's own membership changes are
   * also visible if the state *after* them would allow it.
   */
  private visible(userId: string, event: StoredEvent, before: StateAtEvent, lastJoin: number | undefined): boolean {
    const allows = (state: StateAtEvent) => allowed(state, event.streamOrdering, lastJoin);
    if (allows(before)) return true;
    if (event.type === 'm.room.history_visibility' && event.stateKey === '') {
      return allows({ ...before, visibility: historyVisibilityOf(contentOf(event)) });
    }
    if (event.type === 'm.room.member' && event.stateKey === userId) {
      return allows({ ...before, membership: membershipIn(contentOf(event)) });
    }
    return false;
  }

  /** The state before each event, reading each distinct snapshot once. */
  private async statesBefore(userId: string, events: readonly StoredEvent[]): Promise<StateAtEvent[]> {
    const ids = [...new Set(events.map((e) => e.stateSnapshotBefore).filter((id): id is number => id !== null))];
    const facts = new Map<number, SnapshotFacts>();
    for (const id of ids) facts.set(id, await this.snapshotFacts(id, userId));
    const memberIds = [...facts.values()].map((f) => f.memberEventIds.get(userId)).filter((id): id is string => typeof id === 'string');
    const members = await this.store.events.getEvents(memberIds);
    return events.map((event) => {
      const f = event.stateSnapshotBefore === null ? undefined : facts.get(event.stateSnapshotBefore);
      // An event without a recorded state (never the case for local timeline events) reads as an empty room.
      if (!f) return { visibility: 'shared', membership: undefined };
      const memberId = f.memberEventIds.get(userId);
      const member = memberId ? members.get(memberId) : undefined;
      return { visibility: f.visibility, membership: member ? membershipIn(contentOf(member)) : undefined };
    });
  }

  private async snapshotFacts(id: number, userId: string): Promise<SnapshotFacts> {
    let facts = this.snapshots.get(id);
    if (facts && facts.memberEventIds.has(userId)) return facts;
    const state = await this.store.snapshots.loadStateSnapshot(id);
    if (!facts) {
      const visibilityId = state.get(stateKeyString('m.room.history_visibility', ''));
      facts = { visibility: visibilityId ? await this.visibilityOfEvent(visibilityId) : 'shared', memberEventIds: new Map() };
      if (this.snapshots.size >= CACHE_LIMIT) this.snapshots.clear();
      this.snapshots.set(id, facts);
    }
    facts.memberEventIds.set(userId, state.get(stateKeyString('m.room.member', userId)) ?? null);
    return facts;
  }

  private async visibilityOfEvent(eventId: string): Promise<HistoryVisibilityValue> {
    let value = this.visibilityEvents.get(eventId);
    if (value === undefined) {
      const event = await this.store.events.getEvent(eventId);
      value = historyVisibilityOf(event && contentOf(event));
      if (this.visibilityEvents.size >= CACHE_LIMIT) this.visibilityEvents.clear();
      this.visibilityEvents.set(eventId, value);
    }
    return value;
  }
}

/**
 * 1. world_readable: allow. 2. joined then: allow. 3. shared, and the user
 * joined at any point after the event: allow. 4. invited then, under
 * `invited`: allow. 5. Otherwise deny.
 */
function allowed(state: StateAtEvent, streamOrdering: number, lastJoin: number | undefined): boolean {
  if (state.visibility === 'world_readable') return true;
  if (state.membership === 'join') return true;
  if (state.visibility === 'shared' && lastJoin !== undefined && lastJoin > streamOrdering) return true;
  return state.visibility === 'invited' && state.membership === 'invite';
}
