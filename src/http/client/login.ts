// Login and logout (client-server-api/_index.md, "Login", "Logout";
// data/api/client-server/login.yaml, logout.yaml).
import type { JsonObject } from '../../core/types.js';
import type { AccountServices, LoginThrottle } from '../../services/accounts/index.js';
import { MatrixError } from '../../core/errors.js';
import { limitExceeded, type RateLimiters } from '../rate-limit.js';
import type { Route } from '../types.js';
import { optionalObject, optionalString, requireObject, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

export interface LoginRouteDeps {
  services: AccountServices;
  /** rc_login.account and rc_login.failed_attempts; the edge applies rc_login.address itself. */
  rateLimiters?: RateLimiters;
}

const PASSWORD_LOGIN = 'm.login.password';

export function loginRoutes(deps: LoginRouteDeps): Route[] {
  const { services } = deps;
  const serverName = services.context.config.serverName;
  const throttle = deps.rateLimiters && loginThrottle(deps.rateLimiters);
  return [
    /** # GET /_matrix/client/v3/login */
    {
      method: 'GET',
      path: '/_matrix/client/v3/login',
      auth: 'none',
      handler: async () => ({ body: { flows: [{ type: PASSWORD_LOGIN }] } }),
    },
    /** # POST /_matrix/client/v3/login */
    {
      method: 'POST',
      path: '/_matrix/client/v3/login',
      auth: 'none',
      rateLimit: 'login',
      handler: async (req) => {
        const body = requireObject(req.body);
        const type = requireString(body, 'type');
        if (type !== PASSWORD_LOGIN) throw new MatrixError(400, 'M_UNKNOWN', `Unknown login type '${type}'; this server offers ${PASSWORD_LOGIN}`);
        const session = await services.sessions.loginWithPassword(
          {
            user: loginUser(body),
            password: requireString(body, 'password'),
            deviceId: optionalString(body, 'device_id'),
            initialDeviceDisplayName: optionalString(body, 'initial_device_display_name'),
          },
          throttle,
        );
        return {
          body: {
            user_id: session.userId,
            access_token: session.accessToken,
            device_id: session.deviceId,
            // Deprecated, but older clients still read it.
            home_server: serverName,
          },
        };
      },
    },
    /** # POST /_matrix/client/v3/logout */
    {
      method: 'POST',
      path: '/_matrix/client/v3/logout',
      auth: 'required',
      allowLocked: true,
      handler: async (req) => {
        const requester = requesterOf(req);
        await services.sessions.logout(requester.userId, requester.deviceId);
        return { body: {} };
      },
    },
    /** # POST /_matrix/client/v3/logout/all */
    {
      method: 'POST',
      path: '/_matrix/client/v3/logout/all',
      auth: 'required',
      allowLocked: true,
      handler: async (req) => {
        await services.sessions.logoutAll(requesterOf(req).userId);
        return { body: {} };
      },
    },
  ];
}

/** The user named by `identifier` (m.id.user), or the deprecated top-level `user`. */
function loginUser(body: JsonObject): string {
  const identifier = optionalObject(body, 'identifier');
  if (identifier === undefined) return requireString(body, 'user');
  const type = requireString(identifier, 'type');
  if (type !== 'm.id.user') {
    throw new MatrixError(400, 'M_UNKNOWN', `Unknown login identifier type '${type}'; this server supports m.id.user`);
  }
  return requireString(identifier, 'user');
}

/**
 * Synapse's per-account limits: every attempt counts against rc_login.account,
 * and an account with too many recent failures is refused before its
 * password is even checked.
 */
function loginThrottle(limiters: RateLimiters): LoginThrottle {
  const key = (userId: string): string => userId.toLowerCase();
  return {
    beforeAttempt(userId) {
      const failures = limiters.loginFailedAttempts.peek(key(userId));
      if (!failures.allowed) throw limitExceeded(failures.retryAfterMs);
      limiters.loginAccount.enforce(key(userId));
    },
    onFailure(userId) {
      limiters.loginFailedAttempts.attempt(key(userId));
    },
    onSuccess(userId) {
      limiters.loginFailedAttempts.reset(key(userId));
    },
  };
}
