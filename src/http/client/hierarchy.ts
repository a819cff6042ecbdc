// Space hierarchies (client-server-api/modules/spaces.md; space_hierarchy.yaml).
import type { SpaceHierarchyService } from '../../services/directory/hierarchy.js';
import type { Route } from '../types.js';
import { queryBoolean, queryInteger, queryString } from '../validate.js';

export function hierarchyRoutes(hierarchy: SpaceHierarchyService): Route[] {
  return [
    /** # GET /_matrix/client/v1/rooms/{roomId}/hierarchy */
    {
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/hierarchy',
      auth: 'required',
      handler: async (req) => ({
        body: await hierarchy.hierarchy(req.requester!.userId, req.params.roomId!, {
          suggestedOnly: queryBoolean(req.query, 'suggested_only') ?? false,
          limit: queryInteger(req.query, 'limit', { min: 1 }),
          maxDepth: queryInteger(req.query, 'max_depth', { min: 0 }),
          from: queryString(req.query, 'from'),
        }),
      }),
    },
  ];
}
