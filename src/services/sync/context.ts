// What every stream provider of one /sync pass shares: who is syncing, from
// which positions to which, with which filter, and the user's rooms.
import type { Filter } from '../filters/index.js';
import type { RoomMembership } from '../../storage/rooms/index.js';
import type { MemberLedger } from './lazy-members.js';
import type { StreamPositions } from './token.js';

/** The response key of use_state_after: the stable one, or MSC4222's for clients asking by its unstable name. */
export type StateAfterKey = 'state_after' | 'org.matrix.msc4222.state_after';

export interface SyncContext {
  userId: string;
  deviceId: string;
  /** The client's `since` positions; undefined for an initial sync. */
  since: StreamPositions | undefined;
  /** Positions captured before anything was read: the response's next_batch. */
  to: StreamPositions;
  /** `full_state=true`: every room's full state even on an incremental sync. */
  fullState: boolean;
  /**
   * `use_state_after=true` (or MSC4222's unstable name): rooms carry the
   * state up to the end of their timeline, under this key, instead of
   * `state` (sync.yaml, use_state_after).
   */
  stateAfterKey?: StateAfterKey;
  filter: Filter;
  /** The user's memberships, forgotten rooms left out, after the filter's rooms/not_rooms. */
  memberships: readonly RoomMembership[];
  joinedRoomIds: readonly string[];
  /**
   * Joined rooms the user was not joined to at `since` (none on an initial
   * sync): new to the client. A later member event of a joined user (a
   * profile change) does not make a room newly joined.
   */
  newlyJoinedRoomIds: ReadonlySet<string>;
  /** Rooms the user has left (or been banned from) since `since`, having been joined then: the client holds them. */
  leftSinceJoinedRoomIds: ReadonlySet<string>;
  /**
   * world_readable rooms followed without being in them (the legacy /events
   * with a room_id): an incremental pass sends their new events the user may
   * see, their ephemeral events and their members' presence.
   */
  peekedRoomIds: readonly string[];
  ignoredUsers: ReadonlySet<string>;
  /** While lazy-loading without include_redundant_members: the member events the device holds and is sent. */
  members?: MemberLedger;
}

/** The rooms whose events and ephemeral events this pass follows: joined and peeked. */
export function followedRoomIds(ctx: SyncContext): string[] {
  return [...ctx.joinedRoomIds, ...ctx.peekedRoomIds];
}

/** The position a stream's incremental read starts after (0 on an initial sync). */
export function sinceOf(ctx: SyncContext, stream: keyof StreamPositions): number {
  return ctx.since?.[stream] ?? 0;
}

export function isInitial(ctx: SyncContext): boolean {
  return ctx.since === undefined;
}
