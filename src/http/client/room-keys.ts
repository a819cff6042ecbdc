// Server-side key backups (client-server-api/modules/end_to_end_encryption.md,
// "Server-side key backups"; data/api/client-server/key_backup.yaml).
import type { JsonObject } from '../../core/types.js';
import type { E2eeServices, RoomKeyUpload } from '../../services/e2ee/index.js';
import type { RoomKey, StoredRoomKey } from '../../storage/e2ee/index.js';
import { badJson, notFound } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import {
  isJsonObject,
  optionalString,
  requireBoolean,
  requireInteger,
  requireObject,
  requireObjectField,
  requireQueryString,
  requireString,
} from '../validate.js';
import { requesterOf } from './uia.js';

export function roomKeyRoutes(e2ee: E2eeServices): Route[] {
  const backup = e2ee.keyBackup;
  const user = (req: MatrixRequest): string => requesterOf(req).userId;
  const version = (req: MatrixRequest): string => requireQueryString(req.query, 'version');
  const keysPaths = ['/_matrix/client/v3/room_keys/keys', '/_matrix/client/v3/room_keys/keys/{roomId}', '/_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}'];
  return [
    /** # POST /_matrix/client/v3/room_keys/version */
    {
      method: 'POST',
      path: '/_matrix/client/v3/room_keys/version',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const created = await backup.createVersion(user(req), requireString(body, 'algorithm'), requireObjectField(body, 'auth_data'));
        return { body: { version: created } };
      },
    },
    /** # GET /_matrix/client/v3/room_keys/version */
    {
      method: 'GET',
      path: '/_matrix/client/v3/room_keys/version',
      auth: 'required',
      handler: async (req) => ({ body: { ...(await backup.getVersion(user(req))) } }),
    },
    /** # GET /_matrix/client/v3/room_keys/version/{version} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/room_keys/version/{version}',
      auth: 'required',
      handler: async (req) => ({ body: { ...(await backup.getVersion(user(req), req.params.version!)) } }),
    },
    /** # PUT /_matrix/client/v3/room_keys/version/{version} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/room_keys/version/{version}',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        await backup.updateVersion(
          user(req),
          req.params.version!,
          requireString(body, 'algorithm'),
          requireObjectField(body, 'auth_data'),
          optionalString(body, 'version'),
        );
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/room_keys/version/{version} */
    {
      method: 'DELETE',
      path: '/_matrix/client/v3/room_keys/version/{version}',
      auth: 'required',
      handler: async (req) => {
        await backup.deleteVersion(user(req), req.params.version!);
        return { body: {} };
      },
    },
    ...keysPaths.flatMap((path): Route[] => [
      /** # PUT /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]] */
      {
        method: 'PUT',
        path,
        auth: 'required',
        handler: async (req) => {
          const counts = await backup.putKeys(user(req), version(req), uploadOf(req));
          return { body: { ...counts } };
        },
      },
      /** # GET /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]] */
      {
        method: 'GET',
        path,
        auth: 'required',
        handler: async (req) => {
          const { roomId, sessionId } = req.params;
          const keys = await backup.getKeys(user(req), version(req), roomId, sessionId);
          return { body: keysResponse(keys, roomId, sessionId) };
        },
      },
      /** # DELETE /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]] */
      {
        method: 'DELETE',
        path,
        auth: 'required',
        handler: async (req) => {
          const { roomId, sessionId } = req.params;
          return { body: { ...(await backup.deleteKeys(user(req), version(req), roomId, sessionId)) } };
        },
      },
    ]),
  ];
}

/** The body of a PUT at any of the three levels, as room → session → key. */
function uploadOf(req: MatrixRequest): RoomKeyUpload {
  const body = requireObject(req.body);
  const { roomId, sessionId } = req.params;
  if (roomId !== undefined && sessionId !== undefined) return new Map([[roomId, new Map([[sessionId, keyData(body, 'request body')]])]]);
  if (roomId !== undefined) return new Map([[roomId, sessions(requireObjectField(body, 'sessions'), 'sessions')]]);
  const rooms = requireObjectField(body, 'rooms');
  return new Map(
    Object.entries(rooms).map(([room, value]) => {
      if (!isJsonObject(value)) throw badJson(`'rooms.${room}' must be an object`);
      return [room, sessions(requireObjectField(value, 'sessions'), `rooms.${room}.sessions`)];
    }),
  );
}

function sessions(obj: JsonObject, where: string): Map<string, RoomKey> {
  return new Map(
    Object.entries(obj).map(([session, value]) => {
      if (!isJsonObject(value)) throw badJson(`'${where}.${session}' must be an object`);
      return [session, keyData(value, `${where}.${session}`)];
    }),
  );
}

/** KeyBackupData (definitions/key_backup_data.yaml). */
function keyData(obj: JsonObject, where: string): RoomKey {
  try {
    return {
      firstMessageIndex: requireInteger(obj, 'first_message_index', { min: 0 }),
      forwardedCount: requireInteger(obj, 'forwarded_count', { min: 0 }),
      isVerified: requireBoolean(obj, 'is_verified'),
      sessionData: requireObjectField(obj, 'session_data'),
    };
  } catch (err) {
    if (err instanceof Error) err.message = `${where}: ${err.message}`;
    throw err;
  }
}

function keyJson(key: RoomKey): JsonObject {
  return {
    first_message_index: key.firstMessageIndex,
    forwarded_count: key.forwardedCount,
    is_verified: key.isVerified,
    session_data: key.sessionData,
  };
}

/** The response shape of each level; a single missing session is 404. */
function keysResponse(keys: StoredRoomKey[], roomId: string | undefined, sessionId: string | undefined): JsonObject {
  if (sessionId !== undefined) {
    const key = keys[0];
    if (!key) throw notFound(`No backed-up key for session ${sessionId} in ${roomId}`);
    return keyJson(key);
  }
  const bySession = (list: StoredRoomKey[]): JsonObject => Object.fromEntries(list.map((k) => [k.sessionId, keyJson(k)]));
  if (roomId !== undefined) return { sessions: bySession(keys) };
  const rooms: Record<string, StoredRoomKey[]> = {};
  for (const k of keys) (rooms[k.roomId] ??= []).push(k);
  return { rooms: Object.fromEntries(Object.entries(rooms).map(([room, list]) => [room, { sessions: bySession(list) }])) };
}
