// Room creation and membership (client-server-api/_index.md "Rooms",
// "Room membership"; create_room.yaml, joining.yaml, inviting.yaml,
// leaving.yaml, kicking.yaml, banning.yaml, knocking.yaml), with the
// third-party invites of those endpoints (third_party_membership.yaml,
// createRoom's invite_3pid, joins with third_party_signed).
import { isValidServerName, isValidUserId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import type { RoomService } from '../../services/rooms/index.js';
import type { ThirdPartyInviteRequest, ThirdPartyInviteService } from '../../services/rooms/third-party-invites.js';
import { requireIdServer } from '../../services/identity-servers.js';
import { badJson, missingParam } from '../../core/errors.js';
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

/** invite_3pid.yaml: the identity server to ask about `medium`/`address`. */
function thirdPartyInvite(body: JsonObject, where = ''): ThirdPartyInviteRequest {
  const field = (name: string): string => {
    const value = body[name];
    if (value === undefined) throw missingParam(`Missing ${where}${name}`);
    if (typeof value !== 'string') throw badJson(`${where}${name} must be a string`);
    return value;
  };
  return { idServer: requireIdServer(field('id_server'), `${where}id_server`), idAccessToken: field('id_access_token'), medium: field('medium'), address: field('address') };
}

/** A join's third_party_signed (third_party_signed.yaml), whose `sender` sent the m.room.third_party_invite. */
function thirdPartySigned(body: JsonObject): { sender: string; signed: JsonObject } | undefined {
  const signed = optionalObject(body, 'third_party_signed');
  if (signed === undefined) return undefined;
  const sender = signed.sender;
  if (typeof sender !== 'string' || !isValidUserId(sender)) throw badJson('third_party_signed.sender must be the user ID who sent the third-party invite');
  return { sender, signed };
}

/** As Synapse, the routes that take third-party invites are also served under /_matrix/client/unstable. */
const UNSTABLE_TOO = ['r0', 'unstable'];

export function roomRoutes(rooms: RoomService, thirdPartyInvites: ThirdPartyInviteService): Route[] {
  /**
   * Joins, after turning a third-party invite into an invite when the
   * client brings the identity server's proof (as Synapse does).
   */
  const join = async (req: MatrixRequest, roomIdOrAlias: string, via: string[]): Promise<string> => {
    const body = requireObject(req.body ?? {});
    const proof = thirdPartySigned(body);
    const userId = requester(req).userId;
    if (proof) await thirdPartyInvites.exchange(proof.sender, userId, await rooms.resolveRoom(roomIdOrAlias), proof.signed);
    return rooms.join(userId, roomIdOrAlias, optionalString(body, 'reason'), requester(req).isGuest, via);
  };

  const membershipRoute = (
    action: string,
    run: (req: MatrixRequest, body: JsonObject) => Promise<void>,
    aliasVersions?: string[],
  ): Route => ({
    method: 'POST',
    path: `/_matrix/client/v3/rooms/{roomId}/${action}`,
    auth: 'required',
    aliasVersions,
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
      aliasVersions: UNSTABLE_TOO,
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body ?? {});
        // Checked before the room exists; invited once it does (as Synapse).
        const invite3pid = (optionalArray(body, 'invite_3pid') ?? []).map((entry, i) => {
          if (!isJsonObject(entry)) throw badJson(`invite_3pid[${i}] must be an object`);
          return thirdPartyInvite(entry, `invite_3pid[${i}].`);
        });
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
        for (const invite of invite3pid) await thirdPartyInvites.invite(requester(req).userId, roomId, invite);
        return { body: { room_id: roomId } };
      },
    },
    /** # POST /_matrix/client/v3/join/{roomIdOrAlias} */
    {
      method: 'POST',
      path: '/_matrix/client/v3/join/{roomIdOrAlias}',
      auth: 'required',
      aliasVersions: UNSTABLE_TOO,
      body: 'json',
      guests: true,
      handler: async (req) => ({ body: { room_id: await join(req, req.params.roomIdOrAlias!, viaOf(req)) } }),
    },
    /** # POST /_matrix/client/v3/rooms/{roomId}/join */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/join',
      auth: 'required',
      aliasVersions: UNSTABLE_TOO,
      body: 'json',
      guests: true,
      handler: async (req) => ({ body: { room_id: await join(req, req.params.roomId!, []) } }),
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
    /**
     * # POST /_matrix/client/v3/rooms/{roomId}/invite
     * Both forms: a user_id (inviting.yaml), or a third-party identifier
     * and the identity server to ask (third_party_membership.yaml).
     */
    membershipRoute('invite', (req, body) =>
      body.user_id === undefined && body.medium !== undefined
        ? thirdPartyInvites.invite(requester(req).userId, req.params.roomId!, thirdPartyInvite(body))
        : rooms.invite(requester(req).userId, req.params.roomId!, requireString(body, 'user_id'), optionalString(body, 'reason')),
      UNSTABLE_TOO,
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
