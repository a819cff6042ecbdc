// The accounts storage area: one store per table group, over one database.
import type { Database } from '../database.js';
import { AccessTokenStore } from './access-tokens.js';
import { AccountDataStore } from './account-data.js';
import { DeviceStore } from './devices.js';
import { LoginTokenStore } from './login-tokens.js';
import { ProfileStore } from './profiles.js';
import { RegistrationTokenStore } from './registration-tokens.js';
import { ThreepidBindingStore } from './threepid-bindings.js';
import { UiaSessionStore } from './uia-sessions.js';
import { UserStore } from './users.js';

export * from './access-tokens.js';
export * from './account-data.js';
export * from './devices.js';
export * from './login-tokens.js';
export * from './profiles.js';
export * from './registration-tokens.js';
export * from './threepid-bindings.js';
export * from './uia-sessions.js';
export * from './users.js';

export interface AccountStores {
  db: Database;
  users: UserStore;
  devices: DeviceStore;
  accessTokens: AccessTokenStore;
  loginTokens: LoginTokenStore;
  profiles: ProfileStore;
  accountData: AccountDataStore;
  registrationTokens: RegistrationTokenStore;
  uiaSessions: UiaSessionStore;
  threepidBindings: ThreepidBindingStore;
}

export function createAccountStores(db: Database): AccountStores {
  const accessTokens = new AccessTokenStore(db);
  return {
    db,
    users: new UserStore(db, (userId) => accessTokens.forgetUser(userId)),
    devices: new DeviceStore(db),
    accessTokens,
    loginTokens: new LoginTokenStore(db),
    profiles: new ProfileStore(db),
    accountData: new AccountDataStore(db),
    registrationTokens: new RegistrationTokenStore(db),
    uiaSessions: new UiaSessionStore(db),
    threepidBindings: new ThreepidBindingStore(db),
  };
}
