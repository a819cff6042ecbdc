// Room state resolution (server-server-api.md, "Room State Resolution"):
// given the states after each of an event's prev_events, the state before it.
// The algorithm depends on the room version: v1 for room version 1, v2 for
// versions 2–11, v2.1 for version 12 (rooms/v1.md, rooms/v2.md, rooms/v12.md).

import type { RoomVersionRules } from '../room-versions.js';
import type { StateMap } from '../types.js';
import { type AuthChecker, type RejectedCheck, neverRejected } from './auth.js';
import { AuthGraph, type EventLookup } from './graph.js';
import { resolveV1 } from './v1.js';
import { resolveV2 } from './v2.js';

export type { AuthChecker, AuthDecision, AuthStateLookup, RejectedCheck } from './auth.js';
export { iterativeAuthChecks } from './auth.js';
export type { EventLookup } from './graph.js';
export {
  AuthGraph,
  authChainOf,
  authDifference,
  authEventIds,
  conflictedSubgraph,
  createEventIdForRoom,
  referencedIds,
} from './graph.js';
export { mainlineOrder, reverseTopologicalPowerOrder, senderPowerLevel } from './ordering.js';
export { isPowerEvent, separateStateSets } from './v2.js';

export interface ResolveOptions {
  /**
   * Events rejected on receipt. They are not used as auth events during the
   * iterative auth checks (rooms/v2.md, "Rejected events"); by default none is.
   */
  isRejected?: RejectedCheck;
}

/**
 * Resolves `stateSets` into one state. `events` must find every event of the
 * state sets and of their auth chains; an event it cannot find is treated as
 * absent rather than failing the resolution.
 */
export function resolveState(
  rules: RoomVersionRules,
  stateSets: readonly StateMap[],
  events: EventLookup,
  checkAuth: AuthChecker,
  options: ResolveOptions = {},
): StateMap {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const graph = new AuthGraph(rules, events);
  if (rules.stateResolution === 1) return resolveV1(stateSets, graph, checkAuth);
  return resolveV2(stateSets, graph, checkAuth, options.isRejected ?? neverRejected);
}
