// Room aliases (client-server-api/_index.md, "Room aliases"; directory.yaml).
import type { AliasService } from '../../services/directory/index.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireObject, requireString } from '../validate.js';

function actorOf(req: MatrixRequest) {
  return { userId: req.requester!.userId, isAdmin: req.requester!.isAdmin };
}

export function directoryRoutes(aliases: AliasService): Route[] {
  return [
    /** # PUT /_matrix/client/v3/directory/room/{roomAlias} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/directory/room/{roomAlias}',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const roomId = requireString(requireObject(req.body), 'room_id');
        await aliases.create(actorOf(req), req.params.roomAlias!, roomId);
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/directory/room/{roomAlias} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/directory/room/{roomAlias}',
      auth: 'none',
      handler: async (req) => {
        const { roomId, servers } = await aliases.resolve(req.params.roomAlias!);
        return { body: { room_id: roomId, servers } };
      },
    },
    /** # DELETE /_matrix/client/v3/directory/room/{roomAlias} */
    {
      method: 'DELETE',
      path: '/_matrix/client/v3/directory/room/{roomAlias}',
      auth: 'required',
      handler: async (req) => {
        await aliases.delete(actorOf(req), req.params.roomAlias!);
        return { body: {} };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/aliases */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/aliases',
      auth: 'required',
      handler: async (req) => ({ body: { aliases: await aliases.aliasesForRoom(req.requester!.userId, req.params.roomId!) } }),
    },
  ];
}
