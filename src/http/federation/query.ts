// Querying for information (server-server-api.md, "Querying for
// information"; data/api/server-server/query.yaml): what another server may
// ask about this server's users.
import { invalidParam, missingParam } from '../../core/errors.js';
import { parseUserId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import type { ProfileService } from '../../services/accounts/profiles.js';
import type { Route } from '../types.js';

const PROFILE_FIELDS = ['displayname', 'avatar_url'];

export function federationQueryRoutes(opts: { serverName: string; profiles: ProfileService }): Route[] {
  return [
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
        const field = req.query.get('field');
        if (field !== null && !PROFILE_FIELDS.includes(field)) throw invalidParam(`field must be displayname or avatar_url, got ${JSON.stringify(field)}`);
        const profile = await opts.profiles.get(userId);
        const body: JsonObject = {};
        if (profile.displayname !== null && field !== 'avatar_url') body['displayname'] = profile.displayname;
        if (profile.avatarUrl !== null && field !== 'displayname') body['avatar_url'] = profile.avatarUrl;
        return { body };
      },
    },
  ];
}
