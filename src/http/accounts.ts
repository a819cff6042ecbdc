// Everything the edge needs from the accounts area: its routes and the
// access-token authenticator. src/server.ts mounts these.
import type { AccountServices } from '../services/accounts/index.js';
import { sharedSecretRegisterRoutes } from './admin/register.js';
import { registrationTokenAdminRoutes } from './admin/registration-tokens.js';
import { userAdminRoutes } from './admin/users.js';
import { accountManagementRoutes } from './client/account.js';
import { adminRoutes } from './client/admin.js';
import { capabilitiesRoutes } from './client/capabilities.js';
import { deviceRoutes } from './client/devices.js';
import { loginRoutes } from './client/login.js';
import { profileRoutes } from './client/profile.js';
import { registerRoutes } from './client/register.js';
import { ssoRoutes } from './client/sso.js';
import { thirdPartyIdRoutes } from './client/third-party-ids.js';
import type { RateLimiters } from './rate-limit.js';
import type { Requester, Route } from './types.js';

export interface AccountRouteDeps {
  services: AccountServices;
  /** For login's per-account and failed-attempt limits (rc_login.account, rc_login.failed_attempts). */
  rateLimiters?: RateLimiters;
}

export function accountRoutes(deps: AccountRouteDeps): Route[] {
  const { services } = deps;
  return [
    ...loginRoutes(deps),
    ...ssoRoutes(),
    ...registerRoutes(services),
    ...accountManagementRoutes(services),
    ...thirdPartyIdRoutes(services.threepids),
    ...deviceRoutes(services),
    ...profileRoutes(services),
    ...adminRoutes(services),
    ...capabilitiesRoutes({ defaultRoomVersion: services.context.config.defaultRoomVersion, loginTokensEnabled: services.loginTokens.config.enabled }),
    ...sharedSecretRegisterRoutes(services),
    ...registrationTokenAdminRoutes(services),
    ...userAdminRoutes(services),
  ];
}

/** Where a request came from, for the devices' last_seen_ip / last_seen_ts. */
export interface SeenFrom {
  ip: string;
  userAgent?: string;
}

export type AccountAuthenticator = (accessToken: string, seen?: SeenFrom) => Promise<Requester | undefined>;

/**
 * Resolves an access token to its requester, or undefined when the token is
 * unknown (the edge then answers 401 M_UNKNOWN_TOKEN). Pass `seen` to keep the
 * device's last-seen IP and time current.
 */
export function accountAuthenticator(services: AccountServices): AccountAuthenticator {
  return (accessToken, seen) => services.sessions.authenticate(accessToken, seen);
}
