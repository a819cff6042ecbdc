// The user-data storage area: filters, receipts and presence over one database.
// (Account data is in ../accounts/account-data.ts; typing lives in memory.)
import type { Database } from '../database.js';
import { FilterStore } from './filters.js';
import { PresenceStore } from './presence.js';
import { ReceiptStore } from './receipts.js';

export * from './filters.js';
export * from './presence.js';
export * from './receipts.js';

export interface UserDataStores {
  filters: FilterStore;
  receipts: ReceiptStore;
  presence: PresenceStore;
}

export function createUserDataStores(db: Database): UserDataStores {
  return { filters: new FilterStore(db), receipts: new ReceiptStore(db), presence: new PresenceStore(db) };
}
