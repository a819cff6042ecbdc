// Login and logout (client-server-api/_index.md, "Login", "Logout";
// data/api/client-server/login.yaml, login_token.yaml, refresh.yaml, logout.yaml).
import type { JsonObject } from '../../core/types.js';
import type { AccountServices, LoginThrottle, NewSession } from '../../services/accounts/index.js';
import { MatrixError } from '../../core/errors.js';
import { limitExceeded, type RateLimiters } from '../rate-limit.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalObject, optionalString, requireObject, requireString } from '../validate.js';
import { authDict, requesterOf, sessionResponse, withUia } from './uia.js';

export interface LoginRouteDeps {
  services: AccountServices;
  /** rc_login.account and rc_login.failed_attempts; the edge applies rc_login.address itself. */
  rateLimiters?: RateLimiters;
}

const PASSWORD_LOGIN = 'm.login.password';
const TOKEN_LOGIN = 'm.login.token';

export function loginRoutes(deps: LoginRouteDeps): Route[] {
  const { services } = deps;
  const serverName = services.context.config.serverName;
  const throttle = deps.rateLimiters && loginThrottle(deps.rateLimiters);
  const loginTokensEnabled = services.loginTokens.config.enabled;
  // As Synapse: m.login.token is advertised only while something hands out
  // its tokens, and then with get_login_token (login.yaml, "LoginFlow").
  const flows: JsonObject[] = [{ type: PASSWORD_LOGIN }, ...(loginTokensEnabled ? [{ type: TOKEN_LOGIN, get_login_token: true }] : [])];
  return [
    /** # GET /_matrix/client/v3/login */
    {
      method: 'GET',
      path: '/_matrix/client/v3/login',
      auth: 'none',
      handler: async () => ({ body: { flows } }),
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
        const options = {
          deviceId: optionalString(body, 'device_id'),
          displayName: optionalString(body, 'initial_device_display_name'),
          refreshable: optionalBoolean(body, 'refresh_token'),
        };
        let session: NewSession;
        if (type === PASSWORD_LOGIN) {
          session = await services.sessions.loginWithPassword({ user: loginUser(body), password: requireString(body, 'password'), ...options }, throttle);
        } else if (type === TOKEN_LOGIN) {
          session = await services.loginTokens.login(requireString(body, 'token'), options);
        } else {
          throw new MatrixError(400, 'M_UNKNOWN', `Unknown login type '${type}'; this server offers ${flows.map((f) => f.type).join(' and ')}`);
        }
        // home_server is deprecated, but older clients still read it.
        return { body: { user_id: session.userId, ...sessionResponse(session), home_server: serverName } };
      },
    },
    // Without login_via_existing_session the endpoint does not exist, as in
    // Synapse, which then answers 404 M_UNRECOGNIZED.
    getLoginTokenRoute(services, deps.rateLimiters),
    /**
     * # POST /_matrix/client/v3/refresh
     * Authenticated by the refresh token in the body, not an access token (refresh.yaml).
     */
    {
      method: 'POST',
      path: '/_matrix/client/v3/refresh',
      auth: 'none',
      handler: async (req) => {
        const refreshed = await services.sessions.refresh(requireString(requireObject(req.body), 'refresh_token'));
        const body: JsonObject = { access_token: refreshed.accessToken, refresh_token: refreshed.refreshToken };
        if (refreshed.expiresInMs !== undefined) body.expires_in_ms = refreshed.expiresInMs;
        return { body };
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

/** # POST /_matrix/client/v1/login/get_token */
function getLoginTokenRoute(services: AccountServices, rateLimiters: RateLimiters | undefined): Route {
  return {
    method: 'POST',
    path: '/_matrix/client/v1/login/get_token',
    auth: 'required',
    handler: async (req) => {
      // login_token.yaml: 400 when the user may not generate tokens (Synapse leaves the route out instead).
      if (!services.loginTokens.config.enabled) {
        throw new MatrixError(400, 'M_UNKNOWN', 'Signing in other devices with a login token is disabled on this server (login_via_existing_session.enabled is false)');
      }
      const body = requireObject(req.body);
      return withUia(async () => {
        const issued = await services.loginTokens.issue(requesterOf(req), authDict(body), (userId) => rateLimiters?.loginTokenRequest.enforce(userId.toLowerCase()));
        return { body: { login_token: issued.loginToken, expires_in_ms: issued.expiresInMs } };
      });
    },
  };
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
