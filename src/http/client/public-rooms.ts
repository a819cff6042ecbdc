// The public room directory (client-server-api/_index.md, "Listing rooms";
// list_public_rooms.yaml), this server's or, with `server`, another's.
import type { JsonObject } from '../../core/types.js';
import type { PublicRoomsQuery, PublicRoomsService, Visibility } from '../../services/directory/index.js';
import { badJson, invalidParam, MatrixError } from '../../core/errors.js';
import { isValidServerName } from '../../core/identifiers.js';
import type { MatrixRequest, Route } from '../types.js';
import { optionalBoolean, optionalInteger, optionalObject, optionalString, queryBoolean, queryInteger, queryString, requireEnum, requireObject } from '../validate.js';

export interface PublicRoomRouteOptions {
  /** Synapse's allow_public_rooms_without_auth. */
  allowWithoutAuth: boolean;
}

export function publicRoomRoutes(directory: PublicRoomsService, options: PublicRoomRouteOptions): Route[] {
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
        return list({ ...publicRoomsParams(req.query), server: serverParam(req) });
      },
    },
    /** # POST /_matrix/client/v3/publicRooms */
    {
      method: 'POST',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'required',
      body: 'json',
      handler: async (req) => list({ ...publicRoomsBody(requireObject(req.body)), server: serverParam(req) }),
    },
  ];
}

/** `server`: whose directory to list (another server's is asked over federation). */
function serverParam(req: MatrixRequest): string | undefined {
  const server = queryString(req.query, 'server');
  if (server !== undefined && !isValidServerName(server)) throw invalidParam(`'server' must be a server name such as example.org, not ${JSON.stringify(server)}`);
  return server;
}

function requireOneNetworkChoice(includeAllNetworks: boolean, thirdPartyInstanceId: string | undefined): void {
  if (includeAllNetworks && thirdPartyInstanceId !== undefined) {
    throw invalidParam("'include_all_networks' and 'third_party_instance_id' cannot be used together");
  }
}

/** The query parameters of GET /publicRooms, which the federation endpoint shares. */
export function publicRoomsParams(query: URLSearchParams): PublicRoomsQuery {
  const thirdPartyInstanceId = queryString(query, 'third_party_instance_id');
  const includeAllNetworks = queryBoolean(query, 'include_all_networks') ?? false;
  requireOneNetworkChoice(includeAllNetworks, thirdPartyInstanceId);
  return { limit: queryInteger(query, 'limit', { min: 0 }), since: queryString(query, 'since'), thirdPartyInstanceId, includeAllNetworks };
}

/** The body of POST /publicRooms, which the federation endpoint shares. */
export function publicRoomsBody(body: JsonObject): PublicRoomsQuery {
  const filter = optionalObject(body, 'filter') ?? {};
  const includeAllNetworks = optionalBoolean(body, 'include_all_networks') ?? false;
  const thirdPartyInstanceId = optionalString(body, 'third_party_instance_id');
  requireOneNetworkChoice(includeAllNetworks, thirdPartyInstanceId);
  return {
    limit: optionalInteger(body, 'limit', { min: 0 }),
    since: optionalString(body, 'since'),
    searchTerm: optionalString(filter, 'generic_search_term'),
    roomTypes: roomTypes(filter),
    thirdPartyInstanceId,
    includeAllNetworks,
  };
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
