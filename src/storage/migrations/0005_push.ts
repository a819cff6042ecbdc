import type { Migration } from './index.js';

// Push rules, pushers, per-event push actions and notification counts.
export const pushMigration: Migration = {
  id: 5,
  name: 'push',
  statements: [],
};
