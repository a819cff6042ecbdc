// Room summaries and stripped state, shared by classic and sliding sync.
import type { JsonObject } from '../../core/types.js';
import type { StoredEvent } from '../../storage/rooms/index.js';
import { contentOf } from './events.js';
import type { RoomSummary } from './response.js';

/** At most this many heroes (_index.md, "GET /sync" summary: "up to 5"). */
export const MAX_HEROES = 5;

/**
 * The summary of a room from its current m.room.member events. Heroes are
 * the other joined or invited members in the order they got there (the
 * spec's "ordered by stream ordering"); with none left, those who left.
 */
export function roomSummary(memberEvents: readonly StoredEvent[], userId: string): Required<RoomSummary> {
  let joined = 0;
  let invited = 0;
  const present: StoredEvent[] = [];
  const gone: StoredEvent[] = [];
  for (const event of memberEvents) {
    if (event.type !== 'm.room.member' || event.stateKey === null) continue;
    const membership = contentOf(event).membership;
    if (membership === 'join') joined += 1;
    if (membership === 'invite') invited += 1;
    if (event.stateKey === userId) continue;
    if (membership === 'join' || membership === 'invite') present.push(event);
    else if (membership === 'leave' || membership === 'ban') gone.push(event);
  }
  const byOrder = (a: StoredEvent, b: StoredEvent) => a.streamOrdering - b.streamOrdering;
  const heroes = (present.length > 0 ? present : gone).sort(byOrder).slice(0, MAX_HEROES).map((e) => e.stateKey!);
  return { 'm.heroes': heroes, 'm.joined_member_count': joined, 'm.invited_member_count': invited };
}

/**
 * The summary /sync sends, from the room's current member, name and
 * canonical alias events: `m.heroes` only where the spec requires it, for a
 * room whose m.room.name and m.room.canonical_alias are unset or empty
 * (sync.yaml, RoomSummary), as Synapse answers — clients name other rooms
 * from their name or alias.
 */
export function syncRoomSummary(stateEvents: readonly StoredEvent[], userId: string): RoomSummary {
  const summary = roomSummary(stateEvents, userId);
  if (!isNamed(stateEvents)) return summary;
  const { 'm.heroes': _heroes, ...counts } = summary;
  return counts;
}

/** The state types syncRoomSummary reads. */
export const SUMMARY_STATE_TYPES: readonly string[] = ['m.room.member', 'm.room.name', 'm.room.canonical_alias'];

function isNamed(stateEvents: readonly StoredEvent[]): boolean {
  return stateEvents.some((event) => {
    if (event.stateKey !== '') return false;
    const content = contentOf(event);
    if (event.type === 'm.room.name') return typeof content['name'] === 'string' && content['name'] !== '';
    if (event.type === 'm.room.canonical_alias') return typeof content['alias'] === 'string' && content['alias'] !== '';
    return false;
  });
}

/**
 * State types an invitee or knocker sees before joining (_index.md,
 * "Stripped state": create, join rules, name, avatar, canonical alias,
 * encryption, plus topic as Synapse sends, and guest access, which tells
 * an invited guest's server whether the guest may join).
 */
export const STRIPPED_STATE_TYPES: readonly string[] = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
  'm.room.guest_access',
];

export function strippedEvent(event: StoredEvent): JsonObject {
  return { type: event.type, state_key: event.stateKey ?? '', content: contentOf(event), sender: event.sender };
}
