// Presence (client-server-api/modules/presence.md; data/api/client-server/presence.yaml).
import { PRESENCE_STATES, type PresenceService } from '../../services/user-data/presence.js';
import type { Route } from '../types.js';
import { optionalString, requireEnum, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function presenceRoutes(presence: PresenceService): Route[] {
  return [
    /** # PUT /_matrix/client/v3/presence/{userId}/status */
    {
      method: 'PUT',
      guests: true,
      path: '/_matrix/client/v3/presence/{userId}/status',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const state = requireEnum(body, 'presence', PRESENCE_STATES);
        await presence.putStatus(requesterOf(req).userId, req.params.userId!, state, optionalString(body, 'status_msg'));
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/presence/{userId}/status */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/presence/{userId}/status',
      auth: 'required',
      handler: async (req) => ({ body: await presence.getStatus(requesterOf(req).userId, req.params.userId!) }),
    },
  ];
}
