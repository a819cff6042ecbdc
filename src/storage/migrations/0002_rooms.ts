import type { Migration } from './index.js';

// Events, state snapshots, memberships, aliases.
export const roomsMigration: Migration = {
  id: 2,
  name: 'rooms',
  statements: [],
};
