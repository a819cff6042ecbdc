// The accounts services, wired over one database. Pure of HTTP: routes in
// src/http/client and src/http/admin call these.
import type { Database } from '../../storage/database.js';
import { createAccountStores } from '../../storage/accounts/index.js';
import { AccountService } from './account.js';
import { AccountAdministration } from './administration.js';
import type { AccountsConfig, AccountsContext, Clock } from './common.js';
import { AccountEvents } from './common.js';
import { DeviceService } from './devices.js';
import { ProfileService } from './profiles.js';
import { RegistrationTokenService } from './registration-tokens.js';
import { RegistrationService } from './registration.js';
import { SessionService } from './sessions.js';
import { SharedSecretRegistrationService } from './shared-secret.js';
import { UserInteractiveAuth } from './uia.js';

export { AccountEvents } from './common.js';
export type { AccountEventMap, AccountsConfig, Clock } from './common.js';
export type { Actor } from './account.js';
export type { LoginThrottle, NewSession, TokenOwner } from './sessions.js';
export { UiaIncomplete } from './uia.js';
export { sharedSecretMac } from './shared-secret.js';
export type { AdminActor, ModerationFlag } from './administration.js';

export interface AccountServices {
  context: AccountsContext;
  /** Subscribe here to follow profile changes, device deletions and deactivations. */
  events: AccountEvents;
  sessions: SessionService;
  uia: UserInteractiveAuth;
  registration: RegistrationService;
  account: AccountService;
  devices: DeviceService;
  profiles: ProfileService;
  /** Whois, account locking and suspension (admin.yaml). */
  administration: AccountAdministration;
  sharedSecret: SharedSecretRegistrationService;
  registrationTokens: RegistrationTokenService;
}

export function createAccountServices(db: Database, config: AccountsConfig, now: Clock = Date.now): AccountServices {
  const events = new AccountEvents();
  const context: AccountsContext = { stores: createAccountStores(db), config, now, events };
  const uia = new UserInteractiveAuth(context);
  const sessions = new SessionService(context);
  const registration = new RegistrationService(context, uia, sessions);
  const administration = new AccountAdministration(context);
  return {
    context,
    events,
    sessions,
    uia,
    registration,
    account: new AccountService(context, uia),
    devices: new DeviceService(context, uia, sessions),
    profiles: new ProfileService(context, administration),
    administration,
    sharedSecret: new SharedSecretRegistrationService(context, registration, sessions),
    registrationTokens: new RegistrationTokenService(context),
  };
}
