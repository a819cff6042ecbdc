// Synapse's room admin API (Synapse docs, admin_api/rooms.md) and history
// purging (admin_api/purge_history_api.md), in Synapse's shapes. Server admins only.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { invalidParam, missingParam } from '../../core/errors.js';
import type { DeleteRoomOptions, DeleteRoomResult, PurgeBoundary, RoomAdministration, RoomDeletion } from '../../services/rooms/room-admin.js';
import { ROOM_ORDER_COLUMNS, type AdminRoomEntry, type RoomListQuery, type RoomOrder } from '../../storage/rooms/admin.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalInteger, optionalString, queryBoolean, queryString, requireBoolean, requireObject } from '../validate.js';
import { adminRoute } from './admin-route.js';
import { listPaging } from './listing.js';

/** Synapse's defaults for the room a deleted room's users are moved to. */
const REPLACEMENT_ROOM_NAME = 'Content Violation Notification';
const REPLACEMENT_ROOM_MESSAGE = 'Sharing illegal content on this server is not permitted and rooms in violation will be blocked.';

/** Synapse's default page size for the room list. */
const DEFAULT_LIMIT = 100;

export function roomAdminRoutes(rooms: RoomAdministration): Route[] {
  return [
    /** # GET /_synapse/admin/v1/rooms */
    adminRoute('GET', '/_synapse/admin/v1/rooms', async (req) => {
      const page = await rooms.list(roomListQuery(req.query));
      const body: JsonObject = { rooms: page.rooms.map(roomJson), offset: page.offset, total_rooms: page.total };
      if (page.nextBatch !== undefined) body.next_batch = page.nextBatch;
      if (page.prevBatch !== undefined) body.prev_batch = page.prevBatch;
      return { body };
    }),
    /** # GET /_synapse/admin/v1/rooms/{roomId} */
    adminRoute('GET', '/_synapse/admin/v1/rooms/{roomId}', async (req) => {
      const room = await rooms.details(req.params.roomId!);
      return { body: { ...roomJson(room), topic: room.topic, avatar: room.avatar } };
    }),
    /** # GET /_synapse/admin/v1/rooms/{roomId}/members */
    adminRoute('GET', '/_synapse/admin/v1/rooms/{roomId}/members', async (req) => {
      const members = await rooms.members(req.params.roomId!);
      return { body: { members, total: members.length } };
    }),
    /** # GET /_synapse/admin/v1/users/{userId}/joined_rooms */
    adminRoute('GET', '/_synapse/admin/v1/users/{userId}/joined_rooms', async (req) => {
      const joined = await rooms.joinedRooms(req.params.userId!);
      return { body: { joined_rooms: joined, total: joined.length } };
    }),
    /** # GET /_synapse/admin/v1/rooms/{roomId}/state */
    adminRoute('GET', '/_synapse/admin/v1/rooms/{roomId}/state', async (req) => ({ body: { state: await rooms.state(req.params.roomId!) } })),
    /** # GET /_synapse/admin/v1/rooms/{roomId}/block */
    adminRoute('GET', '/_synapse/admin/v1/rooms/{roomId}/block', async (req) => {
      const status = await rooms.blockStatus(req.params.roomId!);
      const body: JsonObject = { block: status.blocked };
      if (status.by !== undefined) body.user_id = status.by;
      return { body };
    }),
    /** # PUT /_synapse/admin/v1/rooms/{roomId}/block */
    adminRoute('PUT', '/_synapse/admin/v1/rooms/{roomId}/block', async (req, admin) => {
      const block = requireBoolean(requireObject(req.body), 'block');
      await rooms.setBlocked(admin.userId, req.params.roomId!, block);
      return { body: { block } };
    }),
    /** # DELETE /_synapse/admin/v1/rooms/{roomId} — answers when the room is gone. */
    adminRoute('DELETE', '/_synapse/admin/v1/rooms/{roomId}', async (req, admin) => {
      const result = await rooms.deleteRoom(admin.userId, req.params.roomId!, deleteOptions(req.body));
      return { body: shutdownJson(result) };
    }),
    /** # DELETE /_synapse/admin/v2/rooms/{roomId} — answers at once with a delete_id to follow. */
    adminRoute('DELETE', '/_synapse/admin/v2/rooms/{roomId}', async (req, admin) => ({
      body: { delete_id: await rooms.startDeleteRoom(admin.userId, req.params.roomId!, deleteOptions(req.body)) },
    })),
    /** # GET /_synapse/admin/v2/rooms/{roomId}/delete_status */
    adminRoute('GET', '/_synapse/admin/v2/rooms/{roomId}/delete_status', async (req) => ({
      body: { results: rooms.deletionsOfRoom(req.params.roomId!).map((d) => ({ delete_id: d.deleteId, ...deletionJson(d) })) },
    })),
    /** # GET /_synapse/admin/v2/rooms/delete_status/{deleteId} */
    adminRoute('GET', '/_synapse/admin/v2/rooms/delete_status/{deleteId}', async (req) => ({ body: deletionJson(rooms.deletion(req.params.deleteId!)) })),
    /** # POST /_synapse/admin/v1/purge_history/{roomId} */
    adminRoute('POST', '/_synapse/admin/v1/purge_history/{roomId}', async (req) => purgeHistory(rooms, req.params.roomId!, requireObject(req.body ?? {}))),
    /** # POST /_synapse/admin/v1/purge_history/{roomId}/{eventId} */
    adminRoute('POST', '/_synapse/admin/v1/purge_history/{roomId}/{eventId}', async (req) =>
      purgeHistory(rooms, req.params.roomId!, requireObject(req.body ?? {}), req.params.eventId),
    ),
    /** # GET /_synapse/admin/v1/purge_history_status/{purgeId} */
    adminRoute('GET', '/_synapse/admin/v1/purge_history_status/{purgeId}', async (req) => ({ body: rooms.purgeStatus(req.params.purgeId!) })),
  ];
}

function deleteOptions(raw: JsonValue | undefined): DeleteRoomOptions {
  const body = requireObject(raw ?? {});
  const creator = optionalString(body, 'new_room_user_id');
  const options: DeleteRoomOptions = {
    block: optionalBoolean(body, 'block') ?? false,
    purge: optionalBoolean(body, 'purge') ?? true,
    forcePurge: optionalBoolean(body, 'force_purge') ?? false,
  };
  if (creator !== undefined) {
    options.replacement = {
      creator,
      roomName: optionalString(body, 'room_name') ?? REPLACEMENT_ROOM_NAME,
      message: optionalString(body, 'message') ?? REPLACEMENT_ROOM_MESSAGE,
    };
  }
  return options;
}

function shutdownJson(result: DeleteRoomResult): JsonObject {
  return { kicked_users: result.kickedUsers, failed_to_kick_users: result.failedToKickUsers, local_aliases: result.localAliases, new_room_id: result.newRoomId };
}

function deletionJson(deletion: RoomDeletion): JsonObject {
  const body: JsonObject = { status: deletion.status, shutdown_room: shutdownJson(deletion.result) };
  if (deletion.error !== undefined) body.error = deletion.error;
  return body;
}

async function purgeHistory(rooms: RoomAdministration, roomId: string, body: JsonObject, pathEventId?: string) {
  const deleteLocalEvents = optionalBoolean(body, 'delete_local_events') ?? false;
  const purgeId = await rooms.startPurgeHistory(roomId, purgeBoundary(body, pathEventId), deleteLocalEvents);
  return { body: { purge_id: purgeId } };
}

/** The event in the path, else purge_up_to_event_id, else purge_up_to_ts — Synapse's order. */
function purgeBoundary(body: JsonObject, pathEventId: string | undefined): PurgeBoundary {
  const eventId = pathEventId ?? optionalString(body, 'purge_up_to_event_id');
  if (eventId !== undefined) return { eventId };
  const beforeTs = optionalInteger(body, 'purge_up_to_ts', { min: 0 });
  if (beforeTs !== undefined) return { beforeTs };
  throw missingParam('Say where to stop: purge_up_to_event_id or purge_up_to_ts (milliseconds since the epoch)');
}

function roomListQuery(query: URLSearchParams): RoomListQuery {
  return {
    ...listPaging<RoomOrder>(query, ROOM_ORDER_COLUMNS, 'name', DEFAULT_LIMIT),
    searchTerm: queryString(query, 'search_term'),
    publicRooms: queryBoolean(query, 'public_rooms'),
    emptyRooms: queryBoolean(query, 'empty_rooms'),
  };
}

function roomJson(room: AdminRoomEntry): JsonObject {
  return {
    room_id: room.roomId,
    name: room.name,
    canonical_alias: room.canonicalAlias,
    joined_members: room.joinedMembers,
    joined_local_members: room.joinedLocalMembers,
    version: room.version,
    creator: room.creator,
    encryption: room.encryption,
    federatable: room.federatable,
    public: room.public,
    join_rules: room.joinRules,
    guest_access: room.guestAccess,
    history_visibility: room.historyVisibility,
    state_events: room.stateEvents,
    room_type: room.roomType,
  };
}
