// State resolution v2 (rooms/v2.md, used by room versions 2–11) and its
// revision v2.1 (rooms/v12.md, MSC4297), which differs in two places: the
// full conflicted set also holds the conflicted state subgraph, and the power
// events are replayed onto an empty state rather than the unconflicted state.

import type { Event, StateMap } from '../types.js';
import { stateKeyString } from '../types.js';
import { type AuthChecker, type RejectedCheck, iterativeAuthChecks } from './auth.js';
import { type AuthGraph, authDifference, conflictedSubgraph } from './graph.js';
import { mainlineOrder, reverseTopologicalPowerOrder } from './ordering.js';

const POWER_LEVELS_KEY = stateKeyString('m.room.power_levels', '');

/**
 * Splits the state sets: a key with the same event in every set is
 * unconflicted; otherwise each of its events (including where some sets lack
 * the key) is conflicted (rooms/v2.md, "Unconflicted state map and conflicted
 * state set").
 */
export function separateStateSets(stateSets: readonly StateMap[]): { unconflicted: StateMap; conflicted: Set<string> } {
  const unconflicted: StateMap = new Map();
  const conflicted = new Set<string>();
  const keys = new Set<string>();
  for (const set of stateSets) for (const key of set.keys()) keys.add(key);
  for (const key of keys) {
    const ids = new Set<string | undefined>(stateSets.map((set) => set.get(key)));
    if (ids.size === 1) {
      unconflicted.set(key, [...ids][0]!);
    } else {
      for (const id of ids) if (id !== undefined) conflicted.add(id);
    }
  }
  return { unconflicted, conflicted };
}

/**
 * Power events "might remove someone's ability to do something" (rooms/v2.md).
 * The create event is counted too, as Synapse and ruma do; it only ever
 * conflicts in a broken room, and then it must be ordered first.
 */
export function isPowerEvent(event: Event): boolean {
  if (event.state_key === '' && ['m.room.power_levels', 'm.room.join_rules', 'm.room.create'].includes(event.type)) {
    return true;
  }
  if (event.type !== 'm.room.member') return false;
  const membership = event.content['membership'];
  return (membership === 'leave' || membership === 'ban') && event.sender !== event.state_key;
}

export function resolveV2(
  stateSets: readonly StateMap[],
  graph: AuthGraph,
  checkAuth: AuthChecker,
  isRejected: RejectedCheck,
): StateMap {
  const { unconflicted, conflicted } = separateStateSets(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const fullConflicted = new Set(conflicted);
  for (const id of authDifference(stateSets.map((set) => set.values()), graph)) fullConflicted.add(id);
  if (graph.rules.stateResolutionV21) {
    for (const id of conflictedSubgraph(conflicted, graph)) fullConflicted.add(id);
  }
  for (const id of fullConflicted) if (graph.event(id) === undefined) fullConflicted.delete(id);

  // Steps 1–2: power events and the parts of their auth chains in the full conflicted set.
  const powerEvents = [...fullConflicted].filter((id) => isPowerEvent(graph.event(id)!));
  const sortedPowerEvents = reverseTopologicalPowerOrder(powerEvents, fullConflicted, graph);
  const baseState: StateMap = graph.rules.stateResolutionV21 ? new Map() : unconflicted;
  const partial = iterativeAuthChecks(sortedPowerEvents, baseState, graph, checkAuth, isRejected);

  // Steps 3–4: everything else, along the mainline of the partially resolved power levels.
  const placed = new Set(sortedPowerEvents);
  const remaining = [...fullConflicted].filter((id) => !placed.has(id));
  const sortedRemaining = mainlineOrder(remaining, partial.get(POWER_LEVELS_KEY), graph);
  const resolved = iterativeAuthChecks(sortedRemaining, partial, graph, checkAuth, isRejected);

  // Step 5: the unconflicted state always wins.
  for (const [key, id] of unconflicted) resolved.set(key, id);
  return resolved;
}
