// Querying for information (server-server-api.md, "Querying for
// information"; data/api/server-server/query.yaml): what another server may
// ask about this server's users and room aliases.
import { invalidParam, missingParam } from '../../core/errors.js';
import { parseRoomAlias, parseUserId } from '../../core/identifiers.js';
import type { FederationRoomQueries } from '../../federation/inbound/room-queries.js';
import type { JsonObject } from '../../core/types.js';
import type { ProfileService } from '../../services/accounts/profiles.js';
import type { Route } from '../types.js';

export function federationQueryRoutes(opts: { serverName: string; profiles: ProfileService; rooms: FederationRoomQueries }): Route[] {
  return [
    /** # GET /_matrix/federation/v1/query/directory */
    {
      method: 'GET',
      path: '/_matrix/federation/v1/query/directory',
      auth: 'federation',
      handler: async (req) => {
        const alias = req.query.get('room_alias');
        if (alias === null) throw missingParam("Missing query parameter 'room_alias'");
        const parsed = parseRoomAlias(alias);
        if (parsed === null) throw invalidParam(`room_alias ${JSON.stringify(alias)} is not a room alias`);
        if (parsed.serverName !== opts.serverName) throw invalidParam(`${alias} is not an alias of ${opts.serverName}`);
        return { body: await opts.rooms.directory(alias) };
      },
    },
    /** # GET /_matrix/federation/v1/query/profile */
    {
      method: 'GET',
      path: '/_matrix/federation/v1/query/profile',
      auth: 'federation',
      handler: async (req) => {
        const userId = req.query.get('user_id');
        if (userId === null) throw missingParam("Missing query parameter 'user_id'");
        const parsed = parseUserId(userId);
        if (parsed === null) throw invalidParam(`user_id ${JSON.stringify(userId)} is not a user ID`);
        // "MUST be a user local to the receiving homeserver"
        if (parsed.serverName !== opts.serverName) throw invalidParam(`${userId} is not a user of ${opts.serverName}`);
        // With a field, "the response MUST only include the specified field": one we do not keep (m.tz, custom keys) gives {}.
        const field = req.query.get('field');
        const wanted = (name: string): boolean => field === null || field === name;
        const profile = await opts.profiles.get(userId);
        const body: JsonObject = {};
        if (profile.displayname !== null && wanted('displayname')) body['displayname'] = profile.displayname;
        if (profile.avatarUrl !== null && wanted('avatar_url')) body['avatar_url'] = profile.avatarUrl;
        return { body };
      },
    },
  ];
}
