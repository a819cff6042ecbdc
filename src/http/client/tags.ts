// Room tagging (client-server-api/modules/tags.md; data/api/client-server/tags.yaml).
import type { AccountDataService } from '../../services/user-data/account-data.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function tagRoutes(accountData: AccountDataService): Route[] {
  return [
    /** # GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags */
    {
      method: 'GET',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags',
      auth: 'required',
      handler: async (req) => {
        const { userId, roomId } = req.params as { userId: string; roomId: string };
        return { body: await accountData.getTags(requesterOf(req).userId, userId, roomId) };
      },
    },
    /** # PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}',
      auth: 'required',
      handler: async (req) => {
        const { userId, roomId, tag } = req.params as { userId: string; roomId: string; tag: string };
        await accountData.putTag(requesterOf(req).userId, userId, roomId, tag, requireObject(req.body, 'tag'));
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag} */
    {
      method: 'DELETE',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}',
      auth: 'required',
      handler: async (req) => {
        const { userId, roomId, tag } = req.params as { userId: string; roomId: string; tag: string };
        await accountData.deleteTag(requesterOf(req).userId, userId, roomId, tag);
        return { body: {} };
      },
    },
  ];
}
