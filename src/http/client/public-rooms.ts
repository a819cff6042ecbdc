// The public room directory (client-server-api/_index.md, "Listing rooms";
// list_public_rooms.yaml).
import type { JsonObject } from '../../core/types.js';
import type { PublicRoomsQuery, PublicRoomsService, Visibility } from '../../services/directory/index.js';
import { badJson, invalidParam, MatrixError } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { optionalBoolean, optionalInteger, optionalObject, optionalString, queryBoolean, queryInteger, queryString, requireEnum, requireObject } from '../validate.js';

export interface PublicRoomRouteOptions {
  serverName: string;
  /** Synapse's allow_public_rooms_without_auth. */
  allowWithoutAuth: boolean;
}

export function publicRoomRoutes(directory: PublicRoomsService, options: PublicRoomRouteOptions): Route[] {
  /** Other servers' directories need federation, which this endpoint does not query yet. */
  const requireLocalServer = (server: string | undefined): void => {
    if (server !== undefined && server !== options.serverName) {
      throw invalidParam(`Listing the public rooms of ${server} is not supported yet; only this server's (${options.serverName}) can be listed`);
    }
  };
  const list = async (query: PublicRoomsQuery) => ({ body: (await directory.list(query)) as unknown as JsonObject });

  return [
    /** # GET /_matrix/client/v3/directory/list/room/{roomId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/directory/list/room/{roomId}',
      auth: 'none',
      handler: async (req) => ({ body: { visibility: await directory.visibility(req.params.roomId!) } }),
    },
    /** # PUT /_matrix/client/v3/directory/list/room/{roomId} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/directory/list/room/{roomId}',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body);
        // The spec marks visibility optional; omitting it publishes nothing new, so Synapse's default 'public' is not assumed.
        const visibility: Visibility = requireEnum(body, 'visibility', ['public', 'private']);
        await directory.setVisibility({ userId: req.requester!.userId, isAdmin: req.requester!.isAdmin }, req.params.roomId!, visibility);
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/publicRooms */
    {
      method: 'GET',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'optional',
      handler: async (req: MatrixRequest) => {
        if (!req.requester && !options.allowWithoutAuth) {
          throw new MatrixError(401, 'M_MISSING_TOKEN', 'This server lists its public rooms only to signed-in users (allow_public_rooms_without_auth is off)');
        }
        requireLocalServer(queryString(req.query, 'server'));
        const thirdPartyInstanceId = queryString(req.query, 'third_party_instance_id');
        if (queryBoolean(req.query, 'include_all_networks') && thirdPartyInstanceId !== undefined) {
          throw invalidParam("'include_all_networks' and 'third_party_instance_id' cannot be used together");
        }
        return list({ limit: queryInteger(req.query, 'limit', { min: 0 }), since: queryString(req.query, 'since'), thirdPartyInstanceId });
      },
    },
    /** # POST /_matrix/client/v3/publicRooms */
    {
      method: 'POST',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        requireLocalServer(queryString(req.query, 'server'));
        const body = requireObject(req.body);
        const filter = optionalObject(body, 'filter') ?? {};
        const includeAllNetworks = optionalBoolean(body, 'include_all_networks') ?? false;
        const thirdPartyInstanceId = optionalString(body, 'third_party_instance_id');
        if (includeAllNetworks && thirdPartyInstanceId !== undefined) {
          throw invalidParam("'include_all_networks' and 'third_party_instance_id' cannot be used together");
        }
        return list({
          limit: optionalInteger(body, 'limit', { min: 0 }),
          since: optionalString(body, 'since'),
          searchTerm: optionalString(filter, 'generic_search_term'),
          roomTypes: roomTypes(filter),
          thirdPartyInstanceId,
        });
      },
    },
  ];
}

/** filter.room_types: strings, or null for rooms without a type. */
function roomTypes(filter: JsonObject): Array<string | null> | undefined {
  const value = filter.room_types;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badJson("'filter.room_types' must be an array");
  return value.map((t, i) => {
    if (t !== null && typeof t !== 'string') throw badJson(`'filter.room_types[${i}]' must be a string or null`);
    return t;
  });
}
