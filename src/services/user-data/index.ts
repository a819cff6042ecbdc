// The per-user and ephemeral data services: account data (with tags and
// ignored users), filters, typing, receipts and read markers, presence.
// /sync reads its account_data, typing, receipts and presence streams here.
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import type { Database } from '../../storage/database.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import { createUserDataStores } from '../../storage/user-data/index.js';
import { FilterService } from '../filters/index.js';
import type { Notifier } from '../notifier.js';
import { AccountDataService } from './account-data.js';
import { REAL_TIMERS, type Timers } from './common.js';
import { PresenceService } from './presence.js';
import { ReceiptService } from './receipts.js';
import { TypingService } from './typing.js';

export { AccountDataService } from './account-data.js';
export type { MembershipLookup, Timers } from './common.js';
export { PresenceService, PRESENCE_STATES, type PresenceContent, type PresenceState, type RemotePresence } from './presence.js';
export { ReceiptService, type PublicReceipt, type ReceiptContent } from './receipts.js';
export { TypingService } from './typing.js';

export interface UserDataServices {
  accountData: AccountDataService;
  filters: FilterService;
  typing: TypingService;
  receipts: ReceiptService;
  presence: PresenceService;
}

export interface UserDataDeps {
  db: Database;
  accountDataStore: AccountDataStore;
  roomStore: RoomStore;
  notifier: Notifier;
  clock: () => number;
  presenceEnabled: boolean;
  timers?: Timers;
}

/**
 * Builds the services and brings the notifier up to the streams' stored
 * positions, so sync tokens issued before a restart still compare correctly.
 */
export async function createUserDataServices(deps: UserDataDeps): Promise<UserDataServices> {
  const { roomStore, notifier, clock } = deps;
  const stores = createUserDataStores(deps.db);
  const accountData = new AccountDataService(deps.accountDataStore, notifier);
  notifier.setPosition('account_data', await deps.accountDataStore.currentStreamId());
  notifier.setPosition('receipts', await stores.receipts.currentStreamId());
  notifier.setPosition('presence', await stores.presence.currentStreamId());
  return {
    accountData,
    filters: new FilterService(stores.filters),
    typing: new TypingService(roomStore.memberships, notifier, clock, deps.timers ?? REAL_TIMERS),
    receipts: new ReceiptService(stores.receipts, roomStore.events, roomStore.memberships, accountData, notifier, clock),
    presence: new PresenceService(stores.presence, roomStore.memberships, notifier, deps.presenceEnabled, clock),
  };
}
