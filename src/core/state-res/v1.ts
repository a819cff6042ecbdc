// State resolution v1 (rooms/v1.md, "State resolution"), used only by room
// version 1. Where the spec is silent, this follows Synapse's long-standing
// behaviour (synapse/state/v1.py), which every v1 room in the wild was built
// with: conflicts within one category are each resolved against the state as
// it stood when the category began, and a normal conflict in which no event
// passes auth keeps the lowest-ordered event rather than dropping the key.

import { createHash } from 'node:crypto';
import type { Event, StateMap } from '../types.js';
import { parseStateKeyString, stateKeyString } from '../types.js';
import type { AuthChecker, AuthStateLookup } from './auth.js';
import type { AuthGraph } from './graph.js';
import { compareCodePoints } from './heap.js';

interface Candidate {
  event: Event;
  depth: number;
  sha1: string;
}

function candidate(event: Event): Candidate {
  const depth = typeof event.depth === 'number' && Number.isFinite(event.depth) ? event.depth : 0;
  return { event, depth, sha1: createHash('sha1').update(event.event_id, 'utf8').digest('hex') };
}

/** Ascending depth, then descending sha1(event_id): the order power events are replayed in. */
function byDepthAscending(a: Candidate, b: Candidate): number {
  return a.depth - b.depth || compareCodePoints(b.sha1, a.sha1);
}

/** Descending depth, then ascending sha1(event_id): the preference among other events. */
function byDepthDescending(a: Candidate, b: Candidate): number {
  return b.depth - a.depth || compareCodePoints(a.sha1, b.sha1);
}

/** Union of the state sets minus conflicting keys, and the events of each conflicting key. */
function splitConflicts(stateSets: readonly StateMap[], graph: AuthGraph) {
  const resolved: StateMap = new Map();
  const idsByKey = new Map<string, Set<string>>();
  for (const set of stateSets) {
    for (const [key, id] of set) {
      let ids = idsByKey.get(key);
      if (ids === undefined) idsByKey.set(key, (ids = new Set()));
      ids.add(id);
    }
  }
  const conflicts = new Map<string, Candidate[]>();
  for (const [key, ids] of idsByKey) {
    const known = [...ids].map((id) => graph.event(id)).filter((event): event is Event => event !== undefined);
    if (ids.size === 1) resolved.set(key, [...ids][0]!);
    else if (known.length === 1) resolved.set(key, known[0]!.event_id);
    else if (known.length > 1) conflicts.set(key, known.map(candidate));
  }
  return { resolved, conflicts };
}

export function resolveV1(stateSets: readonly StateMap[], graph: AuthGraph, checkAuth: AuthChecker): StateMap {
  const { resolved, conflicts } = splitConflicts(stateSets, graph);
  if (conflicts.size === 0) return resolved;

  const allowedIn = (event: Event, state: StateMap, override?: Event): boolean => {
    const lookup: AuthStateLookup = (type, stateKey) => {
      if (override !== undefined && override.type === type && override.state_key === stateKey) return override;
      const id = state.get(stateKeyString(type, stateKey));
      return id === undefined ? undefined : graph.event(id);
    };
    return checkAuth(event, graph.rules, lookup).allowed;
  };

  // Replays a key's events from oldest up, stopping at the first one the state so far refuses.
  const resolveAuthKey = (candidates: Candidate[], state: StateMap): Event => {
    const ordered = [...candidates].sort(byDepthAscending);
    let accepted = ordered[0]!.event;
    for (const next of ordered.slice(1)) {
      if (!allowedIn(next.event, state, accepted)) break;
      accepted = next.event;
    }
    return accepted;
  };

  const resolveNormalKey = (candidates: Candidate[], state: StateMap): Event => {
    const ordered = [...candidates].sort(byDepthDescending);
    return (ordered.find((c) => allowedIn(c.event, state)) ?? ordered[ordered.length - 1]!).event;
  };

  const categories: Array<[(type: string, stateKey: string) => boolean, typeof resolveAuthKey]> = [
    [(type, stateKey) => type === 'm.room.power_levels' && stateKey === '', resolveAuthKey],
    [(type) => type === 'm.room.join_rules', resolveAuthKey],
    [(type) => type === 'm.room.member', resolveAuthKey],
    [() => true, resolveNormalKey],
  ];
  for (const [belongs, resolveKey] of categories) {
    const decided: Array<[string, string]> = [];
    for (const [key, candidates] of conflicts) {
      if (!belongs(...parseStateKeyString(key))) continue;
      decided.push([key, resolveKey(candidates, resolved).event_id]);
      conflicts.delete(key);
    }
    for (const [key, id] of decided) resolved.set(key, id);
  }
  return resolved;
}
