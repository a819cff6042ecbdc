// Third-party identifiers: the /account/3pid family
// (administrative_contact.yaml) and the requestToken endpoints of
// registration.yaml and password_management.yaml. Axon associates no e-mail
// address or phone number with accounts (services/accounts/threepids.ts
// says why), so these list none and refuse to add or verify one; binding
// one on an identity server, and unbinding it, go to that server. As
// Synapse, the /account/3pid routes are also served under
// /_matrix/client/unstable, where SyTest and older clients call them.
import {
  refuseThreepidAddition,
  refuseTokenRequest,
  THREEPID_MEDIA,
  type ThreepidMedium,
  type ThreepidService,
  type TokenPurpose,
} from '../../services/accounts/threepids.js';
import { requireIdServer } from '../../services/identity-servers.js';
import type { Route } from '../types.js';
import { optionalString, requireEnum, requireObject, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

const ALIASES = ['r0', 'unstable'];

const TOKEN_REQUEST_PATHS: ReadonlyArray<[TokenPurpose, string]> = [
  ['registration', '/_matrix/client/v3/register'],
  ['password_reset', '/_matrix/client/v3/account/password'],
  ['add_to_account', '/_matrix/client/v3/account/3pid'],
];

export function thirdPartyIdRoutes(threepids: ThreepidService): Route[] {
  return [
    /**
     * # GET /_matrix/client/v3/account/3pid — Element reads it on its settings page.
     * The identifiers the homeserver associated with the account, which "is
     * not the same as the list of third-party identifiers bound to the
     * user's Matrix ID in identity servers" (administrative_contact.yaml):
     * none, as none can be added.
     */
    {
      method: 'GET',
      path: '/_matrix/client/v3/account/3pid',
      auth: 'required',
      aliasVersions: ALIASES,
      handler: async () => ({ body: { threepids: [] } }),
    },
    /**
     * # POST /_matrix/client/v3/{register,account/password,account/3pid}/{email,msisdn}/requestToken
     * No access token: these start registration or a password reset.
     */
    ...TOKEN_REQUEST_PATHS.flatMap(([purpose, prefix]) =>
      THREEPID_MEDIA.map(
        (medium): Route => ({
          method: 'POST',
          path: `${prefix}/${medium}/requestToken`,
          auth: 'none',
          handler: async (req) => {
            requireObject(req.body);
            throw refuseTokenRequest(purpose, medium);
          },
        }),
      ),
    ),
    /** # POST /_matrix/client/v3/account/3pid (deprecated), /account/3pid/add */
    ...['/_matrix/client/v3/account/3pid', '/_matrix/client/v3/account/3pid/add'].map(
      (path): Route => ({
        method: 'POST',
        path,
        auth: 'required',
        aliasVersions: ALIASES,
        handler: async (req) => {
          requireObject(req.body);
          throw refuseThreepidAddition();
        },
      }),
    ),
    /** # POST /_matrix/client/v3/account/3pid/bind — the identity server binds what the client validated with it. */
    {
      method: 'POST',
      path: '/_matrix/client/v3/account/3pid/bind',
      auth: 'required',
      aliasVersions: ALIASES,
      handler: async (req) => {
        const body = requireObject(req.body);
        await threepids.bind(requesterOf(req).userId, {
          idServer: requireIdServer(requireString(body, 'id_server')),
          idAccessToken: requireString(body, 'id_access_token'),
          sid: requireString(body, 'sid'),
          clientSecret: requireString(body, 'client_secret'),
        });
        return { body: {} };
      },
    },
    /**
     * # POST /_matrix/client/v3/account/3pid/delete, /account/3pid/unbind
     * The account holds no identifier to delete, so both unbind it: from
     * `id_server`, or from the identity servers it was bound on through this
     * server (`no-support` when there are none).
     */
    ...['/_matrix/client/v3/account/3pid/delete', '/_matrix/client/v3/account/3pid/unbind'].map(
      (path): Route => ({
        method: 'POST',
        path,
        auth: 'required',
        aliasVersions: ALIASES,
        handler: async (req) => {
          const body = requireObject(req.body);
          const medium = requireEnum<ThreepidMedium>(body, 'medium', THREEPID_MEDIA);
          const address = requireString(body, 'address');
          const idServer = optionalString(body, 'id_server');
          const result = await threepids.unbind(requesterOf(req).userId, medium, address, idServer === undefined ? undefined : requireIdServer(idServer));
          return { body: { id_server_unbind_result: result } };
        },
      }),
    ),
  ];
}
