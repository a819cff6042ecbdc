// Account registration (client-server-api/_index.md, "Account registration";
// data/api/client-server/registration.yaml, registration_tokens.yaml).
import type { JsonObject } from '../../core/types.js';
import type { AccountServices, RegistrationParams } from '../../services/accounts/index.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalString, requireObject, requireQueryString } from '../validate.js';
import { MAX_PASSWORD_LENGTH } from '../../services/accounts/passwords.js';
import { authDict, sessionResponse, withUia } from './uia.js';

/**
 * The registration parameters the request gives, or undefined when it gives
 * none (the UIA session's remembered ones then apply). As Synapse does, a
 * user registration's initial_device_display_name sent without a password
 * is ignored (`keepDisplayName` false): some
 * clients send it alone with `auth`, which would otherwise wipe out the
 * parameters of the request that started the session.
 */
function registrationParams(body: JsonObject, keepDisplayName: boolean): RegistrationParams | undefined {
  const params: RegistrationParams = {
    username: optionalString(body, 'username'),
    deviceId: optionalString(body, 'device_id'),
    initialDeviceDisplayName: keepDisplayName ? optionalString(body, 'initial_device_display_name') : undefined,
    inhibitLogin: optionalBoolean(body, 'inhibit_login'),
    refreshToken: optionalBoolean(body, 'refresh_token'),
    guestAccessToken: optionalString(body, 'guest_access_token'),
  };
  const given = Object.entries(params).filter(([, value]) => value !== undefined);
  return given.length === 0 ? undefined : (Object.fromEntries(given) as RegistrationParams);
}

export function registerRoutes(services: AccountServices): Route[] {
  const serverName = services.context.config.serverName;
  return [
    /** # POST /_matrix/client/v3/register */
    {
      method: 'POST',
      path: '/_matrix/client/v3/register',
      auth: 'none',
      rateLimit: 'registration',
      handler: async (req) => {
        const kind = req.query.get('kind') ?? 'user';
        if (kind !== 'user' && kind !== 'guest') throw invalidParam(`kind must be 'user' or 'guest', not '${kind}'`);
        const body = requireObject(req.body);
        const password = optionalString(body, 'password');
        if (password !== undefined && password.length > MAX_PASSWORD_LENGTH) {
          throw invalidParam(`password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
        }
        return withUia(async () => {
          const params = registrationParams(body, kind === 'guest' || password !== undefined);
          const result = await services.registration.register({ kind, params, password, auth: authDict(body) });
          return { body: { user_id: result.userId, home_server: serverName, ...('accessToken' in result ? sessionResponse(result) : {}) } };
        });
      },
    },
    /** # GET /_matrix/client/v3/register/available */
    {
      method: 'GET',
      path: '/_matrix/client/v3/register/available',
      auth: 'none',
      rateLimit: 'registration',
      handler: async (req) => {
        await services.registration.checkUsernameAvailable(requireQueryString(req.query, 'username'));
        return { body: { available: true } };
      },
    },
    /** # GET /_matrix/client/v1/register/m.login.registration_token/validity */
    {
      method: 'GET',
      path: '/_matrix/client/v1/register/m.login.registration_token/validity',
      auth: 'none',
      rateLimit: 'registration',
      handler: async (req) => {
        const valid = await services.registration.isRegistrationTokenValid(requireQueryString(req.query, 'token'));
        return { body: { valid } };
      },
    },
  ];
}
