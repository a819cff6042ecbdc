// The push area wired over one database: push rules, notification counting,
// pushers and their delivery, and OpenID tokens.
import type { HomeserverConfig } from '../../config/types.js';
import type { AccountEvents } from '../accounts/index.js';
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import type { Database } from '../../storage/database.js';
import { createPushStores, type PushStores } from '../../storage/push/index.js';
import type { EventStore } from '../../storage/rooms/index.js';
import type { Notifier } from '../notifier.js';
import { ignoredUserIds } from '../user-data/account-data.js';
import { PusherDelivery, type DeliveryOptions } from './delivery.js';
import { PushEvaluator } from './evaluator.js';
import { OpenIdService } from './openid.js';
import { AddressPolicy, guardedJsonRequester } from '../outbound-http.js';
import type { JsonPoster } from './delivery.js';
import { PusherService } from './pushers.js';
import { PushRulesService } from './rules.js';

export { PUSH_RULES_ACCOUNT_DATA_TYPE, PushRulesService } from './rules.js';
export { PushEvaluator, type RoomStateView } from './evaluator.js';
export { PusherDelivery, gatewayNotification, type DeliveryOptions, type JsonPoster } from './delivery.js';
export { PusherService, PUSH_GATEWAY_PATH } from './pushers.js';
export { OpenIdService, type OpenIdToken } from './openid.js';

export interface PushServices {
  stores: PushStores;
  rules: PushRulesService;
  /** Call `evaluator.onEventPersisted` for each committed timeline event. */
  evaluator: PushEvaluator;
  pushers: PusherService;
  delivery: PusherDelivery;
  openId: OpenIdService;
  /** Stops background delivery (at shutdown). */
  stop(): void;
}

export interface PushServicesDeps {
  db: Database;
  config: Pick<HomeserverConfig, 'serverName' | 'ipRangeBlacklist' | 'ipRangeWhitelist' | 'insecureClientTls'>;
  accountData: AccountDataStore;
  accountEvents: AccountEvents;
  notifier: Notifier;
  events: EventStore;
  clock: () => number;
  onError: (err: unknown, context: string) => void;
  /** Retry timing for gateway delivery (tests shorten it). */
  delivery?: Partial<DeliveryOptions>;
  /** How notifications reach gateways; defaults to HTTP honouring the IP range lists. */
  post?: JsonPoster;
}

/** Push gateways that take longer than this are treated as down and retried. */
const GATEWAY_TIMEOUT_MS = 10_000;

export function createPushServices(deps: PushServicesDeps): PushServices {
  const stores = createPushStores(deps.db);
  const { config } = deps;
  const rules = new PushRulesService({
    store: stores.rules,
    accountData: deps.accountData,
    notifier: deps.notifier,
    legacyMentionRules: true,
  });
  const request = guardedJsonRequester(new AddressPolicy(config.ipRangeBlacklist, config.ipRangeWhitelist), GATEWAY_TIMEOUT_MS, { insecure: config.insecureClientTls });
  const post: JsonPoster = deps.post ?? ((url, body) => request({ method: 'POST', url, body }));
  const delivery = new PusherDelivery({
    pushers: stores.pushers,
    notifications: stores.notifications,
    post,
    onError: deps.onError,
    options: deps.delivery,
  });
  const evaluator = new PushEvaluator({
    serverName: config.serverName,
    rules,
    notifications: stores.notifications,
    delivery,
    events: deps.events,
    clock: deps.clock,
    afterCommit: (task) => deps.db.afterCommit(task),
    ignoredUsers: async (userId) => ignoredUserIds(await deps.accountData.getGlobal(userId, 'm.ignored_user_list')),
  });
  const pushers = new PusherService(stores.pushers);
  deps.accountEvents.on('devicesDeleted', ({ userId, deviceIds }) => pushers.removeForDevices(userId, deviceIds));
  deps.accountEvents.on('userDeactivated', ({ userId }) => pushers.removeAllForUser(userId));
  return {
    stores,
    rules,
    evaluator,
    pushers,
    delivery,
    openId: new OpenIdService(stores.openIdTokens, config.serverName, deps.clock),
    stop: () => delivery.stop(),
  };
}
