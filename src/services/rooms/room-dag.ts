// The room's event graph as federation sees it: the state after any stored
// event, the state before a new event from the states after its
// prev_events, and state resolution over stored events (server-server-api.md,
// "Room State Resolution"; the algorithm per room version lives in core).
import { referencedEventIds } from '../../core/auth-events.js';
import { checkEventAuth } from '../../core/auth-rules.js';
import { resolveState } from '../../core/state-res/index.js';
import type { RoomVersionRules } from '../../core/room-versions.js';
import { stateKeyString, type Event, type StateMap } from '../../core/types.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { eventFromStored } from './room-state.js';

/** A prev_event whose state is unknown here: federation must fetch the state at it. */
export class UnknownStateError extends Error {
  constructor(readonly eventIds: string[]) {
    super(`the state at ${eventIds.join(', ')} is not known to this server`);
    this.name = 'UnknownStateError';
  }
}

export class RoomDag {
  constructor(private readonly store: RoomStore) {}

  /**
   * The state after each stored event: the snapshot before it, plus the
   * event itself if it is an accepted state event (a rejected one changes
   * nothing, server-server-api "Rejection"). Outliers have no known state.
   */
  async statesAfter(eventIds: readonly string[]): Promise<Map<string, StateMap>> {
    const stored = await this.store.events.getEvents(eventIds);
    const unknown = eventIds.filter((id) => stored.get(id)?.stateSnapshotBefore == null);
    if (unknown.length > 0) throw new UnknownStateError(unknown);
    const states = new Map<string, StateMap>();
    for (const id of eventIds) {
      const event = stored.get(id)!;
      const state = await this.store.snapshots.loadStateSnapshot(event.stateSnapshotBefore!);
      if (event.stateKey !== null && event.rejectedReason === null) state.set(stateKeyString(event.type, event.stateKey), event.eventId);
      states.set(id, state);
    }
    return states;
  }

  /** The state before an event with these prev_events: the states after them, resolved. */
  async stateBefore(rules: RoomVersionRules, prevEventIds: readonly string[]): Promise<StateMap> {
    const states = await this.statesAfter(prevEventIds);
    return this.resolve(rules, [...states.values()]);
  }

  /**
   * Resolves state sets with the room version's algorithm. The events of the
   * sets and their auth chains are loaded; rejected ones are known as such.
   * `unstored` are accepted events the sets may name that are not stored yet
   * (the event being received); their auth events must be.
   */
  async resolve(rules: RoomVersionRules, stateSets: readonly StateMap[], unstored: readonly Event[] = []): Promise<StateMap> {
    const distinct = uniqueStates(stateSets);
    if (distinct.length <= 1) return new Map(distinct[0] ?? []);
    const ids = new Set(distinct.flatMap((s) => [...s.values()]));
    for (const event of unstored) for (const id of referencedEventIds(event.auth_events)) ids.add(id);
    const chain = await this.store.events.authChainIds([...ids]);
    const stored = await this.store.events.getEvents([...ids, ...chain]);
    const events = new Map([...stored].map(([id, e]) => [id, eventFromStored(e)]));
    for (const event of unstored) events.set(event.event_id, event);
    const rejected = new Set([...stored.values()].filter((e) => e.rejectedReason !== null).map((e) => e.eventId));
    return resolveState(rules, distinct, (id) => events.get(id), checkEventAuth, { isRejected: (id) => rejected.has(id) });
  }

  /** Which of `eventIds` are stored (as outliers or not). */
  have(eventIds: readonly string[]): Promise<Set<string>> {
    return this.store.events.haveEvents(eventIds);
  }

  /**
   * Which of `eventIds` are in the room's timeline: stored, not as outliers.
   * History a purge kept only as outliers is not, so backfill fetches it again.
   */
  async inTimeline(eventIds: readonly string[]): Promise<Set<string>> {
    const stored = await this.store.events.getEvents(eventIds);
    return new Set([...stored.values()].filter((e) => !e.outlier).map((e) => e.eventId));
  }

  /** Which of `eventIds` have a known state after them: stored with the state before them. */
  async withKnownState(eventIds: readonly string[]): Promise<Set<string>> {
    const stored = await this.store.events.getEvents(eventIds);
    return new Set([...stored.values()].filter((e) => e.stateSnapshotBefore !== null).map((e) => e.eventId));
  }

  /** Loads stored events by ID as core Events (unknown IDs absent). */
  async events(eventIds: readonly string[]): Promise<Map<string, { event: Event; stored: StoredEvent }>> {
    const stored = await this.store.events.getEvents(eventIds);
    return new Map([...stored].map(([id, e]) => [id, { event: eventFromStored(e), stored: e }]));
  }
}

/** Drops state sets equal to an earlier one: resolving a state with itself is that state. */
function uniqueStates(stateSets: readonly StateMap[]): StateMap[] {
  const seen = new Set<string>();
  const unique: StateMap[] = [];
  for (const state of stateSets) {
    const key = [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}\u0001${v}`).join('\u0002');
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(state);
  }
  return unique;
}
