import type { Migration } from './index.js';

// Sessions that outlive one request: what a user-interactive auth session
// remembers, refresh tokens and expiring access tokens, login tokens.
export const sessionsMigration: Migration = {
  id: 14,
  name: 'sessions',
  statements: [
    // Parameters a UIA session remembers (JSON) so a later request of the
    // same session may leave them out, as Synapse does for /register; and the
    // user a completed registration created, so a replay answers with it.
    'ALTER TABLE uia_sessions ADD COLUMN data TEXT',
    'ALTER TABLE uia_sessions ADD COLUMN registered_user_id TEXT',

    // valid_until_ms: NULL never expires. refresh_token_id: the refresh
    // token issued with it; `used` turns 1 on its first use, which revokes
    // the refresh token that was spent to get it.
    'ALTER TABLE access_tokens ADD COLUMN valid_until_ms BIGINT',
    'ALTER TABLE access_tokens ADD COLUMN refresh_token_id BIGINT',
    'ALTER TABLE access_tokens ADD COLUMN used INTEGER NOT NULL DEFAULT 0',
    'CREATE INDEX access_tokens_by_refresh_token ON access_tokens (refresh_token_id)',
    // Synapse's shape: next_token_id is the token a refresh replaced this one
    // with; until that one (or its access token) is used, this one may be
    // spent again, in case the client never received the answer.
    `CREATE TABLE refresh_tokens (
      id SERIAL_PK,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      next_token_id BIGINT,
      expiry_ts BIGINT,
      created_ts BIGINT NOT NULL
    )`,
    'CREATE INDEX refresh_tokens_by_device ON refresh_tokens (user_id, device_id)',
    'CREATE INDEX refresh_tokens_by_next ON refresh_tokens (next_token_id)',

    // Single-use m.login.token tokens (POST /login/get_token), hashed like access tokens.
    `CREATE TABLE login_tokens (
      token_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      expiry_ts BIGINT NOT NULL
    )`,
  ],
};
