// The history visibility rules (client-server-api/modules/history_visibility.md,
// "Server behaviour") as pure functions: given what the room's state said at
// an event, may a user — or, for federation, a server — see it?
//
// The facts come from the state *before* the event. Two kinds of event are
// judged on both sides of themselves, as the spec asks: an
// m.room.history_visibility event by the less restrictive of the value before
// and the value it sets, and the user's own m.room.member event by the "more
// joined" of their membership before and the one it sets (so a user always
// sees their own join, and the leave that ends it).
import type { JsonObject } from './types.js';

export type HistoryVisibilityValue = 'world_readable' | 'shared' | 'invited' | 'joined';

/** Least restrictive first. */
const VISIBILITY_ORDER: readonly HistoryVisibilityValue[] = ['world_readable', 'shared', 'invited', 'joined'];
/** Most joined first (Synapse's MEMBERSHIP_PRIORITY); anything else counts as `leave`. */
const MEMBERSHIP_ORDER: readonly string[] = ['join', 'invite', 'knock', 'leave', 'ban'];

/** Unknown or missing values count as `shared` ("Server behaviour"). */
export function historyVisibilityOf(content: JsonObject | undefined): HistoryVisibilityValue {
  const value = content?.history_visibility;
  return typeof value === 'string' && (VISIBILITY_ORDER as readonly string[]).includes(value) ? (value as HistoryVisibilityValue) : 'shared';
}

/** What the room said about one user at one event. */
export interface UserViewOfEvent {
  /** history_visibility in the state before the event. */
  visibility: HistoryVisibilityValue;
  /** For an m.room.history_visibility event: the value it sets. */
  visibilitySet?: HistoryVisibilityValue;
  /** The user's membership in the state before the event (undefined: none). */
  membership: string | undefined;
  /** For the user's own m.room.member event: the membership it sets. */
  membershipSet?: string;
  /** Whether the user joined the room at some point after the event (rule 3). */
  joinedLater: boolean;
}

export interface UserVerdict {
  visible: boolean;
  /**
   * Whether the user was joined at the event. Someone who was not sees an
   * erased sender's event only in its redacted form (Synapse's rule for
   * POST /account/deactivate with `erase`).
   */
  joined: boolean;
}

/** The spec's five rules for a user. */
export function userMaySee(view: UserViewOfEvent): UserVerdict {
  const visibility = view.visibilitySet === undefined ? view.visibility : leastRestrictive(view.visibility, view.visibilitySet);
  const before = membershipOrLeave(view.membership);
  if (view.membershipSet !== undefined) {
    const set = membershipOrLeave(view.membershipSet);
    // Synapse: a user always sees their own leave from join or invite, or a
    // rejected invite would never take the room away from their client.
    if (set === 'leave' && (before === 'join' || before === 'invite')) return { visible: true, joined: false };
    return decide(visibility, moreJoined(before, set), view.joinedLater);
  }
  return decide(visibility, before, view.joinedLater);
}

function decide(visibility: HistoryVisibilityValue, membership: string, joinedLater: boolean): UserVerdict {
  const joined = membership === 'join';
  const visible =
    visibility === 'world_readable' || // 1
    joined || // 2
    (visibility === 'shared' && joinedLater) || // 3
    (visibility === 'invited' && membership === 'invite'); // 4
  return { visible, joined }; // 5: otherwise deny
}

/** What the room said at one event about the users of one server. */
export interface ServerViewOfEvent {
  visibility: HistoryVisibilityValue;
  /** The membership of each of the server's users in the state at the event. */
  memberships: readonly string[];
  /** The sender asked for their data to be erased. */
  senderErased: boolean;
}

/**
 * May a server see the event (what federation's backfill, /event and
 * /get_missing_events will ask)? The server-server API does not say; as
 * Synapse: shared and world_readable history is open to any server, invited
 * and joined history only to servers with a user invited (under `invited`)
 * or joined then. An erased sender's events go to no other server whole.
 */
export function serverMaySee(view: ServerViewOfEvent): boolean {
  if (view.senderErased) return false;
  if (view.visibility === 'world_readable' || view.visibility === 'shared') return true;
  return view.memberships.some((m) => m === 'join' || (m === 'invite' && view.visibility === 'invited'));
}

function leastRestrictive(a: HistoryVisibilityValue, b: HistoryVisibilityValue): HistoryVisibilityValue {
  return VISIBILITY_ORDER.indexOf(a) <= VISIBILITY_ORDER.indexOf(b) ? a : b;
}

function membershipOrLeave(membership: string | undefined): string {
  return membership !== undefined && MEMBERSHIP_ORDER.includes(membership) ? membership : 'leave';
}

function moreJoined(a: string, b: string): string {
  return MEMBERSHIP_ORDER.indexOf(a) <= MEMBERSHIP_ORDER.indexOf(b) ? a : b;
}
