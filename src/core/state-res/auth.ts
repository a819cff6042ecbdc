// The authorisation check as state resolution sees it. The checker itself
// (src/core/auth-rules.ts) is passed in, so resolution can be tested alone and
// never reaches for a default.

import type { Event, StateMap } from '../types.js';
import { stateKeyString } from '../types.js';
import type { RoomVersionRules } from '../room-versions.js';
import type { AuthGraph } from './graph.js';

/** The state an event is checked against: (type, state_key) → event. */
export type AuthStateLookup = (type: string, stateKey: string) => Event | undefined;
export type AuthDecision = { allowed: true } | { allowed: false; reason: string };
/** Same shape as `checkEventAuth` in src/core/auth-rules.ts. */
export type AuthChecker = (event: Event, rules: RoomVersionRules, authState: AuthStateLookup) => AuthDecision;
/** Whether an event was rejected; such events are never taken from another event's `auth_events`. */
export type RejectedCheck = (eventId: string) => boolean;

export const neverRejected: RejectedCheck = () => false;

/**
 * The iterative auth checks algorithm (rooms/v2.md, "Iterative auth checks"):
 * applies each state event in order to the state if the authorisation rules
 * allow it against that state. A key the state lacks is taken from the event's
 * own `auth_events`, unless that auth event was rejected.
 */
export function iterativeAuthChecks(
  eventIds: Iterable<string>,
  baseState: StateMap,
  graph: AuthGraph,
  checkAuth: AuthChecker,
  isRejected: RejectedCheck,
): StateMap {
  const state = new Map(baseState);
  for (const eventId of eventIds) {
    const event = graph.event(eventId);
    if (event === undefined || typeof event.state_key !== 'string') continue;
    const authState: AuthStateLookup = (type, stateKey) => {
      // State entries were (re-)authorised here, so even a once-rejected one counts (rooms/v2.md, "Rejected events").
      const resolvedId = state.get(stateKeyString(type, stateKey));
      const resolved = resolvedId === undefined ? undefined : graph.event(resolvedId);
      return resolved ?? ownAuthEvent(eventId, type, stateKey, graph, isRejected);
    };
    if (checkAuth(event, graph.rules, authState).allowed) state.set(stateKeyString(event.type, event.state_key), eventId);
  }
  return state;
}

function ownAuthEvent(
  eventId: string,
  type: string,
  stateKey: string,
  graph: AuthGraph,
  isRejected: RejectedCheck,
): Event | undefined {
  for (const authId of graph.authEdges(eventId)) {
    if (isRejected(authId)) continue;
    const authEvent = graph.event(authId);
    if (authEvent !== undefined && authEvent.type === type && authEvent.state_key === stateKey) return authEvent;
  }
  return undefined;
}
