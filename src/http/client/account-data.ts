// Client config (client-server-api/modules/account_data.md; data/api/client-server/account-data.yaml).
import type { AccountDataService } from '../../services/user-data/account-data.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function accountDataRoutes(accountData: AccountDataService): Route[] {
  return [
    /** # PUT /_matrix/client/v3/user/{userId}/account_data/{type} */
    {
      method: 'PUT',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
      auth: 'required',
      handler: async (req) => {
        const { userId, type } = req.params as { userId: string; type: string };
        await accountData.putGlobal(requesterOf(req).userId, userId, type, requireObject(req.body, 'account data content'));
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/user/{userId}/account_data/{type} */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
      auth: 'required',
      handler: async (req) => {
        const { userId, type } = req.params as { userId: string; type: string };
        return { body: await accountData.getGlobal(requesterOf(req).userId, userId, type) };
      },
    },
    /** # PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type} */
    {
      method: 'PUT',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
      auth: 'required',
      handler: async (req) => {
        const { userId, roomId, type } = req.params as { userId: string; roomId: string; type: string };
        await accountData.putRoom(requesterOf(req).userId, userId, roomId, type, requireObject(req.body, 'account data content'));
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type} */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
      auth: 'required',
      handler: async (req) => {
        const { userId, roomId, type } = req.params as { userId: string; roomId: string; type: string };
        return { body: await accountData.getRoom(requesterOf(req).userId, userId, roomId, type) };
      },
    },
  ];
}
