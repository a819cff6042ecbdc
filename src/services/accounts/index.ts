// The accounts services, wired over one database. Pure of HTTP: routes in
// src/http/client and src/http/admin call these.
import type { Database } from '../../storage/database.js';
import { createAccountStores } from '../../storage/accounts/index.js';
import { AccountService } from './account.js';
import { AccountAdministration } from './administration.js';
import type { AccountsConfig, AccountsContext, Clock } from './common.js';
import { AccountEvents } from './common.js';
import { DeviceService } from './devices.js';
import { LoginTokenService } from './login-tokens.js';
import { ProfileService, type RemoteProfiles } from './profiles.js';
import { RegistrationTokenService } from './registration-tokens.js';
import { RegistrationService } from './registration.js';
import { SessionService } from './sessions.js';
import { SharedSecretRegistrationService } from './shared-secret.js';
import { UserInteractiveAuth } from './uia.js';
import { ThreepidService, type IdentityBindings } from './threepids.js';
import { UserAdministration } from './user-admin.js';

export { AccountEvents } from './common.js';
export type { AccountEventMap, AccountsConfig, Clock } from './common.js';
export type { Actor } from './account.js';
export type { RegistrationParams } from './registration.js';
export type { LoginThrottle, NewSession, SessionOptions, TokenOwner } from './sessions.js';
export { UiaIncomplete } from './uia.js';
export { sharedSecretMac } from './shared-secret.js';
export type { AdminActor, ModerationFlag } from './administration.js';
export type { IdentityBindings, UnbindResult } from './threepids.js';

export interface AccountServices {
  context: AccountsContext;
  /** Subscribe here to follow profile changes, device deletions and deactivations. */
  events: AccountEvents;
  sessions: SessionService;
  /** m.login.token: POST /login/get_token and logging in with its tokens. */
  loginTokens: LoginTokenService;
  uia: UserInteractiveAuth;
  registration: RegistrationService;
  account: AccountService;
  devices: DeviceService;
  profiles: ProfileService;
  /** Whois, account locking and suspension (admin.yaml). */
  administration: AccountAdministration;
  sharedSecret: SharedSecretRegistrationService;
  /** Synapse's user admin API: list, query, create or modify, deactivate, reset passwords. */
  userAdministration: UserAdministration;
  registrationTokens: RegistrationTokenService;
  /** Binding third-party identifiers on identity servers, and unbinding them. */
  threepids: ThreepidService;
}

export interface AccountServiceOptions {
  now?: Clock;
  remoteProfiles?: RemoteProfiles;
  /** How identity servers are reached (services/identity-servers.ts). */
  identity: IdentityBindings;
  /** Told why an identity server could not unbind a deactivated user's identifier. */
  onUnbindFailure: (err: unknown, userId: string) => void;
}

export function createAccountServices(db: Database, config: AccountsConfig, options: AccountServiceOptions): AccountServices {
  const { now = Date.now, remoteProfiles } = options;
  const events = new AccountEvents();
  const context: AccountsContext = { stores: createAccountStores(db), config, now, events };
  const uia = new UserInteractiveAuth(context);
  const sessions = new SessionService(context);
  const registration = new RegistrationService(context, uia, sessions);
  const administration = new AccountAdministration(context);
  const threepids = new ThreepidService(context.stores.threepidBindings, options.identity, options.onUnbindFailure);
  const account = new AccountService(context, uia, threepids);
  const profiles = new ProfileService(context, administration, remoteProfiles);
  return {
    context,
    events,
    sessions,
    loginTokens: new LoginTokenService(context, uia, sessions),
    uia,
    registration,
    account,
    devices: new DeviceService(context, uia, sessions),
    profiles,
    administration,
    sharedSecret: new SharedSecretRegistrationService(context, registration, sessions),
    userAdministration: new UserAdministration({ ctx: context, account, registration, profiles, administration }),
    registrationTokens: new RegistrationTokenService(context),
    threepids,
  };
}
