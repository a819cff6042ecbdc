import type { Migration } from './index.js';

// What the admin API records (Synapse docs, admin_api/rooms.md "Block Room
// API", media_admin_api.md "Quarantine media"): rooms an admin blocked, and
// who quarantined a piece of media.
export const serverAdminMigration: Migration = {
  id: 50,
  name: 'server_admin',
  statements: [
    // Local users may not join or be invited into a blocked room; user_id is the admin who blocked it.
    'CREATE TABLE blocked_rooms (room_id TEXT PRIMARY KEY, user_id TEXT NOT NULL)',
    'ALTER TABLE local_media ADD COLUMN quarantined_by TEXT',
    'ALTER TABLE remote_media_cache ADD COLUMN quarantined_by TEXT',
  ],
};
