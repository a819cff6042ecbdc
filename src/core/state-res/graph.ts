// Walking the auth-event graph: referenced IDs in both event formats, auth
// chains, auth difference and (v2.1) the conflicted state subgraph. Every walk
// is iterative, so a room with a very long auth chain cannot overflow the
// stack, and an auth event the caller could not supply is treated as absent.

import type { Event, EventReferenceV1, JsonValue } from '../types.js';
import type { RoomVersionRules } from '../room-versions.js';

/** Every event the resolution needs (state sets and their auth chains), preloaded by the caller. */
export type EventLookup = (eventId: string) => Event | undefined;

/**
 * The event IDs in `prev_events` or `auth_events`: plain strings from room
 * version 3 on, `[id, {sha256}]` pairs in versions 1 and 2 (rooms/v1.md,
 * "Event format"). Malformed entries are skipped rather than trusted.
 */
export function referencedIds(refs: readonly (string | EventReferenceV1 | JsonValue)[] | undefined): string[] {
  if (!Array.isArray(refs)) return [];
  const ids: string[] = [];
  for (const ref of refs) {
    if (typeof ref === 'string') ids.push(ref);
    else if (Array.isArray(ref) && typeof ref[0] === 'string') ids.push(ref[0]);
  }
  return ids;
}

/**
 * The create event's ID in a room whose ID is its hash (room version 12):
 * `!hash` becomes `$hash` (rooms/v12.md, auth rule 2).
 */
export function createEventIdForRoom(roomId: string): string {
  return `$${roomId.slice(1)}`;
}

/**
 * The events an event is authorised by. From room version 12 the create event
 * is no longer listed in `auth_events` but is implied by the room ID, so it is
 * added here; every algorithm then sees the same edges whatever the version.
 */
export function authEventIds(event: Event, rules: RoomVersionRules): string[] {
  const ids = referencedIds(event.auth_events);
  if (rules.roomIdIsCreateEventHash && event.type !== 'm.room.create' && typeof event.room_id === 'string') {
    const createId = createEventIdForRoom(event.room_id);
    if (!ids.includes(createId)) ids.push(createId);
  }
  return ids;
}

/**
 * Remembers each event's auth edges so that the several walks a resolution
 * makes over the same graph parse every event's references only once.
 */
export class AuthGraph {
  private readonly edges = new Map<string, readonly string[]>();

  constructor(
    readonly rules: RoomVersionRules,
    readonly lookup: EventLookup,
  ) {}

  event(eventId: string): Event | undefined {
    return this.lookup(eventId);
  }

  /** Auth event IDs of `eventId`; none when the event itself is unknown. */
  authEdges(eventId: string): readonly string[] {
    let ids = this.edges.get(eventId);
    if (ids === undefined) {
      const event = this.lookup(eventId);
      ids = event === undefined ? [] : authEventIds(event, this.rules);
      this.edges.set(eventId, ids);
    }
    return ids;
  }

  /** The auth event of `eventId` that sits at (type, state_key), if it can be found. */
  authEventAt(eventId: string, type: string, stateKey: string): Event | undefined {
    for (const id of this.authEdges(eventId)) {
      const candidate = this.lookup(id);
      if (candidate !== undefined && candidate.type === type && candidate.state_key === stateKey) return candidate;
    }
    return undefined;
  }

  /**
   * Every event reachable from `eventIds` through `auth_events` (the spec's
   * auth chain), not counting the starting events unless some other start
   * reaches them. Unknown events end their branch.
   */
  authChain(eventIds: Iterable<string>): Set<string> {
    const chain = new Set<string>();
    const stack: string[] = [];
    for (const id of eventIds) stack.push(...this.authEdges(id));
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (chain.has(id) || this.lookup(id) === undefined) continue;
      chain.add(id);
      stack.push(...this.authEdges(id));
    }
    return chain;
  }
}

/** The auth chain of a set of events: see `AuthGraph.authChain`. */
export function authChainOf(eventIds: Iterable<string>, events: EventLookup, rules: RoomVersionRules): Set<string> {
  return new AuthGraph(rules, events).authChain(eventIds);
}

/**
 * ∪Cᵢ − ∩Cᵢ over the full auth chains Cᵢ of the state sets (rooms/v2.md,
 * "Auth difference"). Each Cᵢ counts the state events themselves as well as
 * their auth chains, as Synapse, ruma and gomatrixserverlib do: otherwise an
 * unconflicted event cited by only one side's newer events would be pulled
 * into the conflicted set and replayed.
 */
export function authDifference(stateEventIds: readonly Iterable<string>[], graph: AuthGraph): Set<string> {
  const counts = new Map<string, number>();
  for (const ids of stateEventIds) {
    const starts = [...ids].filter((id) => graph.event(id) !== undefined);
    const chain = graph.authChain(starts);
    for (const id of starts) chain.add(id);
    for (const id of chain) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const difference = new Set<string>();
  for (const [id, count] of counts) if (count < stateEventIds.length) difference.add(id);
  return difference;
}

/**
 * Room version 12's conflicted state subgraph (rooms/v12.md, "Conflicted
 * state subgraph"): every event lying on an auth-event path from one
 * conflicted event to another, endpoints included. An event is on such a path
 * exactly when it is reachable from a conflicted event and a conflicted event
 * is reachable from it, so two linear walks find them all.
 */
export function conflictedSubgraph(conflicted: ReadonlySet<string>, graph: AuthGraph): Set<string> {
  const known = [...conflicted].filter((id) => graph.event(id) !== undefined);
  const reachable = graph.authChain(known);
  for (const id of known) reachable.add(id);

  // Reverse the edges inside the reachable part, then walk back from the conflicted events.
  const citedBy = new Map<string, string[]>();
  for (const id of reachable) {
    for (const authId of graph.authEdges(id)) {
      if (!reachable.has(authId)) continue;
      let citers = citedBy.get(authId);
      if (citers === undefined) citedBy.set(authId, (citers = []));
      citers.push(id);
    }
  }
  const subgraph = new Set<string>();
  const stack = [...known];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (subgraph.has(id)) continue;
    subgraph.add(id);
    for (const citer of citedBy.get(id) ?? []) stack.push(citer);
  }
  return subgraph;
}
