// Third-party invites between servers (server-server-api "Third-party
// invites"; data/api/server-server/third_party_invite.yaml): identity
// servers tell us an address was bound (/3pid/onbind, unauthenticated: the
// invites carry the identity server's signatures, checked before use), and
// servers outside a room ask us to exchange a third-party invite in it.
import type { ThirdPartyInviteService } from '../../services/rooms/third-party-invites.js';
import type { Route } from '../types.js';

const V1 = '/_matrix/federation/v1';

export function federationThirdPartyInviteRoutes(invites: ThirdPartyInviteService): Route[] {
  const onBind = (method: 'PUT' | 'POST'): Route => ({
    method,
    path: `${V1}/3pid/onbind`,
    auth: 'none',
    body: 'json',
    handler: async (req) => {
      await invites.onBind(req.body);
      return { body: {} };
    },
  });
  return [
    /** # PUT /_matrix/federation/v1/3pid/onbind */
    onBind('PUT'),
    /** # POST /_matrix/federation/v1/3pid/onbind — what Synapse serves and Sydent (and SyTest's identity server) call. */
    onBind('POST'),
    /** # PUT /_matrix/federation/v1/exchange_third_party_invite/{roomId} */
    {
      method: 'PUT',
      path: `${V1}/exchange_third_party_invite/{roomId}`,
      auth: 'federation',
      handler: async (req) => {
        await invites.exchangeForServer(req.params.roomId!, req.body);
        return { body: {} };
      },
    },
  ];
}
