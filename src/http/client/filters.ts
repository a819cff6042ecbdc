// Filtering (client-server-api/_index.md, "Filtering"; data/api/client-server/filter.yaml).
import type { FilterService } from '../../services/filters/index.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function filterRoutes(filters: FilterService): Route[] {
  return [
    /** # POST /_matrix/client/v3/user/{userId}/filter */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/filter',
      auth: 'required',
      handler: async (req) => {
        const filterId = await filters.create(requesterOf(req).userId, req.params.userId!, requireObject(req.body, 'filter'));
        return { body: { filter_id: filterId } };
      },
    },
    /** # GET /_matrix/client/v3/user/{userId}/filter/{filterId} */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/filter/{filterId}',
      auth: 'required',
      handler: async (req) => ({ body: await filters.get(requesterOf(req).userId, req.params.userId!, req.params.filterId!) }),
    },
  ];
}
