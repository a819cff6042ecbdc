// Who may see what a room is without being in it: the rule the space
// hierarchy (space_hierarchy.yaml) and room summaries (room_summary.yaml)
// share, as Synapse's _is_local_room_accessible applies it.
import type { RoomStore } from '../../storage/rooms/index.js';
import { isKnockable, isRestricted, joinRuleOf, restrictedAllowedRooms } from '../rooms/join-rules.js';
import type { LoadedRoom } from '../rooms/room-state.js';

/**
 * A room anyone may look at — public, knockable, or world_readable — or,
 * for `userId`, one they are joined or invited to, or a restricted room
 * whose conditions they meet. `userId` undefined: an unauthenticated caller.
 */
export async function mayPreviewRoom(memberships: RoomStore['memberships'], userId: string | undefined, room: LoadedRoom): Promise<boolean> {
  if (joinRuleOf(room) === 'public' || isKnockable(room)) return true;
  if (room.stateEvent('m.room.history_visibility')?.content.history_visibility === 'world_readable') return true;
  if (userId === undefined) return false;
  const membership = room.membership(userId);
  if (membership === 'join' || membership === 'invite') return true;
  if (!isRestricted(room)) return false;
  const joined = new Set((await memberships.roomsForUser(userId, ['join'])).map((m) => m.roomId));
  return restrictedAllowedRooms(room).some((roomId) => joined.has(roomId));
}
