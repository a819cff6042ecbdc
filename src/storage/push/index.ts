// The push storage area: push rules, pushers, notifications and read marks,
// and OpenID tokens, over one database.
import type { Database } from '../database.js';
import { NotificationStore } from './notifications.js';
import { OpenIdTokenStore } from './openid-tokens.js';
import { PusherStore } from './pushers.js';
import { PushRuleStore } from './rules.js';

export * from './notifications.js';
export * from './openid-tokens.js';
export * from './pushers.js';
export * from './rules.js';

export interface PushStores {
  rules: PushRuleStore;
  pushers: PusherStore;
  notifications: NotificationStore;
  openIdTokens: OpenIdTokenStore;
}

export function createPushStores(db: Database): PushStores {
  return {
    rules: new PushRuleStore(db),
    pushers: new PusherStore(db),
    notifications: new NotificationStore(db),
    openIdTokens: new OpenIdTokenStore(db),
  };
}
