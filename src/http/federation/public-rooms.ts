// GET and POST /_matrix/federation/v1/publicRooms (server-server-api
// "Published Room Directory"; data/api/server-server/public_rooms.yaml):
// our room directory for another server, when allow_public_rooms_over_federation
// (Synapse's key, default false) lets other servers read it.
import { forbidden } from '../../core/errors.js';
import type { JsonObject } from '../../core/types.js';
import type { PublicRoomsQuery, PublicRoomsService } from '../../services/directory/index.js';
import { publicRoomsBody, publicRoomsParams } from '../client/public-rooms.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireObject } from '../validate.js';

export function federationPublicRoomRoutes(directory: PublicRoomsService, options: { allowed: boolean }): Route[] {
  const list = async (req: MatrixRequest, query: PublicRoomsQuery) => {
    if (!options.allowed) {
      throw forbidden(`This server does not share its public room list with other servers (${req.origin} asked); its allow_public_rooms_over_federation is off`);
    }
    // "Defaults to 0 (no limit)" for federation.
    const limit = query.limit === 0 ? undefined : query.limit;
    return { body: (await directory.listForServer(req.origin!, { ...query, limit })) as unknown as JsonObject };
  };
  return [
    /** # GET /_matrix/federation/v1/publicRooms */
    { method: 'GET', path: '/_matrix/federation/v1/publicRooms', auth: 'federation', handler: async (req) => list(req, publicRoomsParams(req.query)) },
    /** # POST /_matrix/federation/v1/publicRooms */
    {
      method: 'POST',
      path: '/_matrix/federation/v1/publicRooms',
      auth: 'federation',
      body: 'json',
      handler: async (req) => list(req, publicRoomsBody(requireObject(req.body))),
    },
  ];
}
