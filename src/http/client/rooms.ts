// Room creation and membership (client-server-api/_index.md "Rooms",
// "Room membership"; create_room.yaml, joining.yaml, inviting.yaml,
// leaving.yaml, kicking.yaml, banning.yaml, knocking.yaml).
import { isValidServerName } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import type { RoomService } from '../../services/rooms/index.js';
import { badJson } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import {
  isJsonObject,
  optionalArray,
  optionalBoolean,
  optionalEnum,
  optionalObject,
  optionalString,
  optionalStringArray,
  requireObject,
  requireString,
} from '../validate.js';

function requester(req: MatrixRequest) {
  return req.requester!;
}

function reasonOf(req: MatrixRequest): string | undefined {
  return optionalString(requireObject(req.body ?? {}), 'reason');
}

function initialState(body: JsonObject): Array<{ type: string; stateKey: string; content: JsonObject }> {
  return (optionalArray(body, 'initial_state') ?? []).map((entry, i) => {
    if (!isJsonObject(entry)) throw badJson(`initial_state[${i}] must be an object`);
    const type = entry.type;
    const content = entry.content;
    const stateKey = entry.state_key ?? '';
    if (typeof type !== 'string') throw badJson(`initial_state[${i}].type must be a string`);
    if (!isJsonObject(content)) throw badJson(`initial_state[${i}].content must be an object`);
    if (typeof stateKey !== 'string') throw badJson(`initial_state[${i}].state_key must be a string`);
    return { type, stateKey, content };
  });
}

/**
 * Servers to join or knock through for a room this server is not in: `via`
 * (v1.12) and the deprecated `server_name`, which clients still send.
 */
function viaOf(req: MatrixRequest): string[] {
  return [...req.query.getAll('via'), ...req.query.getAll('server_name')].filter((s) => isValidServerName(s));
}

export function roomRoutes(rooms: RoomService): Route[] {
  const membershipRoute = (
    action: string,
    run: (req: MatrixRequest, body: JsonObject) => Promise<void>,
  ): Route => ({
    method: 'POST',
    path: `/_matrix/client/v3/rooms/{roomId}/${action}`,
    auth: 'required',
    body: 'json',
    // guest_access.md: of the membership endpoints, guests may only leave (and join, below).
    guests: action === 'leave',
    handler: async (req) => {
      await run(req, requireObject(req.body ?? {}));
      return { body: {} };
    },
  });

  return [
    /** # POST /_matrix/client/v3/createRoom */
    {
      method: 'POST',
      path: '/_matrix/client/v3/createRoom',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body ?? {});
        const roomId = await rooms.createRoom(requester(req).userId, {
          visibility: optionalEnum(body, 'visibility', ['public', 'private'] as const),
          roomAliasName: optionalString(body, 'room_alias_name'),
          name: optionalString(body, 'name'),
          topic: optionalString(body, 'topic'),
          invite: optionalStringArray(body, 'invite') ?? [],
          roomVersion: optionalString(body, 'room_version'),
          creationContent: optionalObject(body, 'creation_content') ?? {},
          initialState: initialState(body),
          preset: optionalEnum(body, 'preset', ['private_chat', 'trusted_private_chat', 'public_chat'] as const),
          isDirect: optionalBoolean(body, 'is_direct') ?? false,
          powerLevelContentOverride: optionalObject(body, 'power_level_content_override'),
        });
        return { body: { room_id: roomId } };
      },
    },
    /** # POST /_matrix/client/v3/join/{roomIdOrAlias} */
    {
      method: 'POST',
      path: '/_matrix/client/v3/join/{roomIdOrAlias}',
      auth: 'required',
      body: 'json',
      guests: true,
      handler: async (req) => ({ body: { room_id: await rooms.join(requester(req).userId, req.params.roomIdOrAlias!, reasonOf(req), requester(req).isGuest, viaOf(req)) } }),
    },
    /** # POST /_matrix/client/v3/rooms/{roomId}/join */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/join',
      auth: 'required',
      body: 'json',
      guests: true,
      handler: async (req) => ({ body: { room_id: await rooms.join(requester(req).userId, req.params.roomId!, reasonOf(req), requester(req).isGuest) } }),
    },
    /** # POST /_matrix/client/v3/knock/{roomIdOrAlias} */
    {
      method: 'POST',
      path: '/_matrix/client/v3/knock/{roomIdOrAlias}',
      auth: 'required',
      body: 'json',
      handler: async (req) => ({ body: { room_id: await rooms.knock(requester(req).userId, req.params.roomIdOrAlias!, reasonOf(req), viaOf(req)) } }),
    },
    /** # POST /_matrix/client/v3/rooms/{roomId}/leave */
    membershipRoute('leave', (req, body) => rooms.leave(requester(req).userId, req.params.roomId!, optionalString(body, 'reason'))),
    /** # POST /_matrix/client/v3/rooms/{roomId}/forget */
    membershipRoute('forget', (req) => rooms.forget(requester(req).userId, req.params.roomId!)),
    /** # POST /_matrix/client/v3/rooms/{roomId}/invite */
    membershipRoute('invite', (req, body) =>
      rooms.invite(requester(req).userId, req.params.roomId!, requireString(body, 'user_id'), optionalString(body, 'reason')),
    ),
    /** # POST /_matrix/client/v3/rooms/{roomId}/kick */
    membershipRoute('kick', (req, body) =>
      rooms.kick(requester(req).userId, req.params.roomId!, requireString(body, 'user_id'), optionalString(body, 'reason')),
    ),
    /** # POST /_matrix/client/v3/rooms/{roomId}/ban */
    membershipRoute('ban', (req, body) =>
      rooms.ban(requester(req).userId, req.params.roomId!, requireString(body, 'user_id'), optionalString(body, 'reason')),
    ),
    /** # POST /_matrix/client/v3/rooms/{roomId}/unban */
    membershipRoute('unban', (req, body) =>
      rooms.unban(requester(req).userId, req.params.roomId!, requireString(body, 'user_id'), optionalString(body, 'reason')),
    ),
  ];
}
