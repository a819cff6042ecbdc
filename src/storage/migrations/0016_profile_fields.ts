import type { Migration } from './index.js';

// Custom profile fields (profile.yaml, Matrix 1.16: `m.tz` and namespaced
// keys beside displayname and avatar_url). One row per field; the value is
// any JSON, stored as its canonical JSON text.
export const profileFieldsMigration: Migration = {
  id: 16,
  name: 'profile_fields',
  statements: [
    `CREATE TABLE profile_fields (
      user_id TEXT NOT NULL,
      field_name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (user_id, field_name)
    )`,
  ],
};
