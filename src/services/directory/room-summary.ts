// GET /room_summary/{roomIdOrAlias} (room_summary.yaml, MSC3266, Matrix
// 1.15): what a room is — name, topic, members, join rule, version,
// encryption — for someone deciding whether to join it. Rooms this server is
// not in cannot be described yet (that needs federation), so they are 404.
import { parseRoomAlias, parseRoomId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import { invalidParam, notFound } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { EventPipeline } from '../rooms/event-pipeline.js';
import { isRestricted, restrictedAllowedRooms } from '../rooms/join-rules.js';
import { roomSummary } from './public-rooms.js';
import { mayPreviewRoom } from './room-access.js';

export class RoomSummaryService {
  constructor(
    private readonly store: RoomStore,
    private readonly pipeline: Pick<EventPipeline, 'room'>,
  ) {}

  /**
   * The summary of a room the caller may preview (room-access.ts); `userId`
   * undefined for an unauthenticated caller, who then gets no `membership`.
   * A room that is unknown and one the caller may not see are the same 404,
   * so the endpoint cannot probe for private rooms.
   */
  async summary(userId: string | undefined, roomIdOrAlias: string): Promise<JsonObject> {
    const roomId = await this.resolve(roomIdOrAlias);
    const room = roomId === undefined ? undefined : await this.pipeline.room(roomId);
    if (!room || !(await mayPreviewRoom(this.store.memberships, userId, room))) {
      throw notFound(`Room ${roomIdOrAlias} not found, or you may not see it`);
    }
    const summary: JsonObject = { ...roomSummary(room).json, room_version: room.rules.id };
    const algorithm = room.stateEvent('m.room.encryption')?.content.algorithm;
    if (typeof algorithm === 'string') summary.encryption = algorithm;
    const allowed = isRestricted(room) ? restrictedAllowedRooms(room) : [];
    if (allowed.length > 0) summary.allowed_room_ids = allowed;
    // As Synapse: an authenticated caller with no membership is told 'leave'.
    if (userId !== undefined) summary.membership = room.membership(userId) ?? 'leave';
    return summary;
  }

  /** The room ID named by a room ID or a local alias; undefined for an unknown alias. */
  private async resolve(roomIdOrAlias: string): Promise<string | undefined> {
    if (parseRoomAlias(roomIdOrAlias)) return (await this.store.aliases.getAlias(roomIdOrAlias))?.roomId;
    if (parseRoomId(roomIdOrAlias)) return roomIdOrAlias;
    throw invalidParam(`'${roomIdOrAlias}' is neither a room ID (!…) nor a room alias (#…:server)`);
  }
}
