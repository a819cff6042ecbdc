// GET /_matrix/federation/v1/hierarchy/{roomId} (server-server-api "Spaces";
// data/api/server-server/space_hierarchy.yaml): one space and its direct
// children for another server, which walks further itself.
import type { SpaceHierarchyService } from '../../services/directory/hierarchy.js';
import type { Route } from '../types.js';
import { queryBoolean } from '../validate.js';

export function federationHierarchyRoutes(hierarchy: SpaceHierarchyService): Route[] {
  return [
    /** # GET /_matrix/federation/v1/hierarchy/{roomId} */
    {
      method: 'GET',
      path: '/_matrix/federation/v1/hierarchy/{roomId}',
      auth: 'federation',
      handler: async (req) => ({ body: await hierarchy.forServer(req.origin!, req.params.roomId!, queryBoolean(req.query, 'suggested_only') ?? false) }),
    },
  ];
}
