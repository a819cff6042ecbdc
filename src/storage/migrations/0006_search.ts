import type { Migration } from './index.js';

// Full-text search over room events and the user directory.
export const searchMigration: Migration = {
  id: 6,
  name: 'search',
  statements: [],
};
