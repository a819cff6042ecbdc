import type { Migration } from './index.js';

// POST /account/deactivate with `erase: true` (account_deactivation.yaml):
// the user asked that their messages no longer reach people who were not in
// the room when they were sent. Kept on the user's row; history visibility
// reads it for every sender it serves, so readers batch and cache it.
export const userErasureMigration: Migration = {
  id: 12,
  name: 'user_erasure',
  statements: ['ALTER TABLE users ADD COLUMN erased INTEGER NOT NULL DEFAULT 0'],
};
