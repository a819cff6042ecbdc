// The two orderings of state resolution v2 (rooms/v2.md, "Definitions"):
// the reverse topological power ordering for power events and the mainline
// ordering for everything else.

import type { Event, JsonValue } from '../types.js';
import type { RoomVersionRules } from '../room-versions.js';
import type { AuthGraph } from './graph.js';
import { MinHeap, compareCodePoints } from './heap.js';

const POWER_LEVELS = 'm.room.power_levels';
const CREATE = 'm.room.create';

/** Power level in a power_levels map; strings were allowed before room version 10. */
function levelValue(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** The room's creators as the create event names them in this room version. */
function creatorsOf(create: Event, rules: RoomVersionRules): string[] {
  if (rules.privilegedCreators) {
    const additional = create.content['additional_creators'];
    const extra = Array.isArray(additional) ? additional.filter((id): id is string => typeof id === 'string') : [];
    return [create.sender, ...extra];
  }
  if (rules.implicitRoomCreator) return [create.sender];
  const creator = create.content['creator'];
  return typeof creator === 'string' ? [creator] : [];
}

/**
 * The sender's power level "when looking at their auth events" (rooms/v2.md,
 * reverse topological power ordering): from the power_levels auth event, or,
 * without one, 100 for the room creator and 0 for anyone else. In room
 * version 12 creators (the create event's sender and `additional_creators`)
 * rank above any number (rooms/v12.md, "infinitely high").
 */
export function senderPowerLevel(eventId: string, graph: AuthGraph): number {
  const event = graph.event(eventId);
  if (event === undefined) return 0;
  const { rules } = graph;
  const create = event.type === CREATE && event.state_key === '' ? event : graph.authEventAt(eventId, CREATE, '');
  const isCreator = create !== undefined && creatorsOf(create, rules).includes(event.sender);
  if (isCreator && rules.privilegedCreators) return Number.POSITIVE_INFINITY;
  const powerLevels = graph.authEventAt(eventId, POWER_LEVELS, '');
  if (powerLevels === undefined) return isCreator ? 100 : 0;
  const users = powerLevels.content['users'];
  const own =
    users !== null && typeof users === 'object' && !Array.isArray(users) ? levelValue(users[event.sender]) : undefined;
  return own ?? levelValue(powerLevels.content['users_default']) ?? 0;
}

interface PowerKey {
  id: string;
  power: number;
  ts: number;
}

function timestamp(event: Event | undefined): number {
  const ts = event?.origin_server_ts;
  return typeof ts === 'number' && Number.isFinite(ts) ? ts : 0;
}

/** x < y: greater sender power, then smaller origin_server_ts, then smaller event ID. */
function powerLess(x: PowerKey, y: PowerKey): boolean {
  if (x.power !== y.power) return x.power > y.power;
  if (x.ts !== y.ts) return x.ts < y.ts;
  return compareCodePoints(x.id, y.id) < 0;
}

/**
 * Sorts `eventIds` and the events of their auth chains that lie in
 * `fullConflicted` by the reverse topological power ordering: Kahn's algorithm
 * taking, at each step, the smallest event whose auth events are all placed.
 *
 * Like Synapse and ruma, the auth chain is followed only through events of the
 * full conflicted set; those are the events whose relative order matters here.
 * Events caught in an auth cycle (only a forged graph has one) never become
 * ready and are left out.
 */
export function reverseTopologicalPowerOrder(
  eventIds: Iterable<string>,
  fullConflicted: ReadonlySet<string>,
  graph: AuthGraph,
): string[] {
  // Each node's unplaced auth events (within the graph), and who cites it.
  const pending = new Map<string, number>();
  const citedBy = new Map<string, string[]>();
  const stack = [...new Set(eventIds)].filter((id) => graph.event(id) !== undefined);
  for (const id of stack) pending.set(id, 0);
  while (stack.length > 0) {
    const id = stack.pop()!;
    const authIds = new Set(graph.authEdges(id).filter((authId) => fullConflicted.has(authId) && graph.event(authId)));
    pending.set(id, authIds.size);
    for (const authId of authIds) {
      let citers = citedBy.get(authId);
      if (citers === undefined) citedBy.set(authId, (citers = []));
      citers.push(id);
      if (!pending.has(authId)) {
        pending.set(authId, 0);
        stack.push(authId);
      }
    }
  }

  const keyOf = (id: string): PowerKey => ({ id, power: senderPowerLevel(id, graph), ts: timestamp(graph.event(id)) });
  const ready = new MinHeap<PowerKey>(powerLess);
  for (const [id, count] of pending) if (count === 0) ready.push(keyOf(id));

  const sorted: string[] = [];
  while (ready.size > 0) {
    const { id } = ready.pop()!;
    sorted.push(id);
    for (const citer of citedBy.get(id) ?? []) {
      const left = pending.get(citer)! - 1;
      pending.set(citer, left);
      if (left === 0) ready.push(keyOf(citer));
    }
  }
  return sorted;
}

/**
 * Sorts events by the mainline ordering based on `powerLevelsId` (rooms/v2.md,
 * "Mainline ordering"): an event whose power_levels ancestry meets the mainline
 * further from its head comes first; events meeting it nowhere come first of
 * all; then origin_server_ts, then event ID.
 */
export function mainlineOrder(eventIds: readonly string[], powerLevelsId: string | undefined, graph: AuthGraph): string[] {
  // Mainline position i of each Pᵢ; the walk stops at a repeat in case of a corrupt cycle.
  const position = new Map<string, number>();
  for (let id = powerLevelsId; id !== undefined && !position.has(id) && graph.event(id); ) {
    position.set(id, position.size);
    id = graph.authEventAt(id, POWER_LEVELS, '')?.event_id;
  }

  // Positions found for power_levels events off the mainline, so a shared ancestry is walked once.
  const found = new Map<string, number>(position);
  const positionOf = (eventId: string): number => {
    const walked = new Set<string>();
    let result = Number.POSITIVE_INFINITY;
    for (let pl = graph.authEventAt(eventId, POWER_LEVELS, '')?.event_id; pl !== undefined; ) {
      const known = found.get(pl);
      if (known !== undefined) {
        result = known;
        break;
      }
      if (walked.has(pl)) break;
      walked.add(pl);
      pl = graph.authEventAt(pl, POWER_LEVELS, '')?.event_id;
    }
    for (const id of walked) found.set(id, result);
    return result;
  };

  const keys = new Map(
    eventIds.map((id) => [id, { position: positionOf(id), ts: timestamp(graph.event(id)) }] as const),
  );
  return [...eventIds].sort((a, b) => {
    const x = keys.get(a)!;
    const y = keys.get(b)!;
    if (x.position !== y.position) return x.position > y.position ? -1 : 1;
    if (x.ts !== y.ts) return x.ts - y.ts;
    return compareCodePoints(a, b);
  });
}
