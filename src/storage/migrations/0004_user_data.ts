import type { Migration } from './index.js';

// Filters, receipts, presence.
export const userDataMigration: Migration = {
  id: 4,
  name: 'user_data',
  statements: [],
};
