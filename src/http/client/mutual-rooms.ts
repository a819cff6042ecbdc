// Mutual rooms (client-server-api/modules/mutual_rooms.md; mutual_rooms.yaml).
import type { MutualRoomsService } from '../../services/rooms/mutual-rooms.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { queryString, requireQueryString } from '../validate.js';
import { requesterOf } from './uia.js';

export function mutualRoomsRoutes(mutualRooms: MutualRoomsService): Route[] {
  return [
    /** # GET /_matrix/client/v1/mutual_rooms */
    {
      method: 'GET',
      path: '/_matrix/client/v1/mutual_rooms',
      auth: 'required',
      handler: async (req) => {
        for (const name of ['user_id', 'from']) {
          if (req.query.getAll(name).length > 1) throw invalidParam(`Query parameter '${name}' may be given only once`);
        }
        const body = await mutualRooms.mutualRooms(requesterOf(req).userId, requireQueryString(req.query, 'user_id'), queryString(req.query, 'from'));
        return { body };
      },
    },
  ];
}
