import type { Migration } from './index.js';

// Account moderation (client-server-api/_index.md, "Account locking",
// "Account suspension"): two reversible flags on the user, set by server
// admins through PUT /admin/lock and /admin/suspend. And reports about users
// (POST /users/{userId}/report, report_content.yaml), kept apart from
// content_reports, whose rows always name a room.
export const accountModerationMigration: Migration = {
  id: 15,
  name: 'account_moderation',
  statements: [
    'ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE users ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0',
    `CREATE TABLE user_reports (
      id SERIAL_PK,
      received_ts BIGINT NOT NULL,
      target_user_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      reason TEXT NOT NULL
    )`,
    'CREATE INDEX user_reports_ts ON user_reports (received_ts)',
  ],
};
