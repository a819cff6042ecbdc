// Third-party identifiers: the /account/3pid family
// (administrative_contact.yaml) and the requestToken endpoints of
// registration.yaml and password_management.yaml. Axon binds no e-mail
// address or phone number (services/accounts/threepids.ts says why), so
// these list none, refuse to add or verify one, and remove none.
import {
  refuseThreepidAddition,
  refuseTokenRequest,
  THREEPID_MEDIA,
  type ThreepidMedium,
  type TokenPurpose,
} from '../../services/accounts/threepids.js';
import type { Route } from '../types.js';
import { optionalString, requireEnum, requireObject, requireString } from '../validate.js';

const TOKEN_REQUEST_PATHS: ReadonlyArray<[TokenPurpose, string]> = [
  ['registration', '/_matrix/client/v3/register'],
  ['password_reset', '/_matrix/client/v3/account/password'],
  ['add_to_account', '/_matrix/client/v3/account/3pid'],
];

export function thirdPartyIdRoutes(): Route[] {
  return [
    /** # GET /_matrix/client/v3/account/3pid — Element reads it on its settings page. */
    {
      method: 'GET',
      path: '/_matrix/client/v3/account/3pid',
      auth: 'required',
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
    /** # POST /_matrix/client/v3/account/3pid (deprecated), /account/3pid/add, /account/3pid/bind */
    ...['/_matrix/client/v3/account/3pid', '/_matrix/client/v3/account/3pid/add', '/_matrix/client/v3/account/3pid/bind'].map(
      (path): Route => ({
        method: 'POST',
        path,
        auth: 'required',
        handler: async (req) => {
          requireObject(req.body);
          throw refuseThreepidAddition();
        },
      }),
    ),
    /**
     * # POST /_matrix/client/v3/account/3pid/delete, /account/3pid/unbind
     * The account has no such identifier and no identity server is known to
     * unbind it from: the spec's answer is `no-support`, and Synapse succeeds
     * the same way when there is nothing to delete.
     */
    ...['/_matrix/client/v3/account/3pid/delete', '/_matrix/client/v3/account/3pid/unbind'].map(
      (path): Route => ({
        method: 'POST',
        path,
        auth: 'required',
        handler: async (req) => {
          const body = requireObject(req.body);
          requireEnum<ThreepidMedium>(body, 'medium', THREEPID_MEDIA);
          requireString(body, 'address');
          optionalString(body, 'id_server');
          return { body: { id_server_unbind_result: 'no-support' } };
        },
      }),
    ),
  ];
}
