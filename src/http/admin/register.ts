// Synapse's shared-secret registration API, which register_new_matrix_user
// and many deployment scripts call: GET a nonce, then POST the account with
// an HMAC proving knowledge of registration_shared_secret.
import type { AccountServices } from '../../services/accounts/index.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalString, requireObject, requireString } from '../validate.js';

export function sharedSecretRegisterRoutes(services: AccountServices): Route[] {
  const serverName = services.context.config.serverName;
  return [
    /** # GET /_synapse/admin/v1/register */
    {
      method: 'GET',
      path: '/_synapse/admin/v1/register',
      auth: 'none',
      handler: async () => ({ body: { nonce: services.sharedSecret.newNonce() } }),
    },
    /** # POST /_synapse/admin/v1/register */
    {
      method: 'POST',
      path: '/_synapse/admin/v1/register',
      auth: 'none',
      rateLimit: 'registration',
      handler: async (req) => {
        const body = requireObject(req.body);
        if (optionalString(body, 'user_type') !== undefined) {
          throw invalidParam('user_type is not supported by this server; register the user without it');
        }
        const session = await services.sharedSecret.register({
          nonce: requireString(body, 'nonce'),
          username: requireString(body, 'username'),
          password: requireString(body, 'password'),
          admin: optionalBoolean(body, 'admin') ?? false,
          mac: requireString(body, 'mac'),
          displayname: optionalString(body, 'displayname'),
        });
        return {
          body: { user_id: session.userId, access_token: session.accessToken, device_id: session.deviceId, home_server: serverName },
        };
      },
    },
  ];
}
