// Room summaries (client-server-api/_index.md, "Room Summaries"; room_summary.yaml).
import type { RoomSummaryService } from '../../services/directory/room-summary.js';
import type { Route } from '../types.js';

export function roomSummaryRoutes(summaries: RoomSummaryService): Route[] {
  return [
    /**
     * # GET /_matrix/client/v1/room_summary/{roomIdOrAlias}
     * Without a token too: the spec lets servers answer unauthenticated
     * callers for public, knockable and world_readable rooms, which are the
     * only ones the service shows them.
     */
    {
      method: 'GET',
      path: '/_matrix/client/v1/room_summary/{roomIdOrAlias}',
      auth: 'optional',
      handler: async (req) => ({ body: await summaries.summary(req.requester?.userId, req.params.roomIdOrAlias!) }),
    },
  ];
}
