// User directory search (client-server-api/_index.md, "User directory"; users.yaml).
import type { UserDirectoryService } from '../../services/user-directory/index.js';
import type { Route } from '../types.js';
import { optionalInteger, requireObject, requireString } from '../validate.js';

/** users.yaml: "Defaults to 10." */
const DEFAULT_LIMIT = 10;
/** A cap so one request cannot ask for the whole directory. */
const MAX_LIMIT = 1000;

export function userDirectoryRoutes(directory: UserDirectoryService): Route[] {
  return [
    /** # POST /_matrix/client/v3/user_directory/search */
    {
      method: 'POST',
      path: '/_matrix/client/v3/user_directory/search',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body);
        const term = requireString(body, 'search_term');
        const limit = Math.min(optionalInteger(body, 'limit', { min: 0 }) ?? DEFAULT_LIMIT, MAX_LIMIT);
        const { results, limited } = await directory.search(req.requester!.userId, term, limit);
        return {
          body: {
            limited,
            results: results.map((u) => ({
              user_id: u.userId,
              ...(u.displayName !== null && { display_name: u.displayName }),
              ...(u.avatarUrl !== null && { avatar_url: u.avatarUrl }),
            })),
          },
        };
      },
    },
  ];
}
