import type { Migration } from './index.js';

// Push rules, pushers, per-event push actions and notification counts, and
// OpenID tokens. Booleans are INTEGER 0/1; JSON is stored as TEXT.
export const pushMigration: Migration = {
  id: 5,
  name: 'push',
  statements: [
    // A user's own rules; position 0 is the most important rule of its kind.
    `CREATE TABLE push_rules (
      user_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      rule_id TEXT NOT NULL,
      position INTEGER NOT NULL,
      enabled INTEGER NOT NULL,
      actions TEXT NOT NULL,
      conditions TEXT,
      pattern TEXT,
      PRIMARY KEY (user_id, kind, rule_id)
    )`,
    // What a user changed about a server-default rule; NULL keeps the default.
    `CREATE TABLE push_rule_default_changes (
      user_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      rule_id TEXT NOT NULL,
      enabled INTEGER,
      actions TEXT,
      PRIMARY KEY (user_id, kind, rule_id)
    )`,
    // device_id ties a pusher to the session that made it, so logging that
    // device out stops its notifications (as Synapse does per access token).
    `CREATE TABLE pushers (
      id SERIAL_PK,
      user_id TEXT NOT NULL,
      device_id TEXT,
      kind TEXT NOT NULL,
      app_id TEXT NOT NULL,
      pushkey TEXT NOT NULL,
      pushkey_ts BIGINT NOT NULL,
      app_display_name TEXT NOT NULL,
      device_display_name TEXT NOT NULL,
      profile_tag TEXT,
      lang TEXT NOT NULL,
      data TEXT NOT NULL,
      UNIQUE (user_id, app_id, pushkey)
    )`,
    'CREATE INDEX pushers_by_key ON pushers (app_id, pushkey)',
    // Only events that notify a user are kept. thread_id is 'main' or the
    // thread root's event ID.
    `CREATE TABLE event_push_actions (
      user_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      room_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      stream_ordering BIGINT NOT NULL,
      ts BIGINT NOT NULL,
      actions TEXT NOT NULL,
      highlight INTEGER NOT NULL,
      PRIMARY KEY (user_id, event_id)
    )`,
    'CREATE INDEX event_push_actions_by_room ON event_push_actions (user_id, room_id, stream_ordering)',
    'CREATE INDEX event_push_actions_by_stream ON event_push_actions (user_id, stream_ordering)',
    // How far a user has read, per room and thread ('' = an unthreaded
    // receipt, which covers every thread). Counts are notifying events after it.
    `CREATE TABLE push_read_marks (
      user_id TEXT NOT NULL,
      room_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      stream_ordering BIGINT NOT NULL,
      PRIMARY KEY (user_id, room_id, thread_id)
    )`,
    // Only a SHA-256 of each token is kept, as for access tokens.
    `CREATE TABLE openid_tokens (
      token_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      expires_ts BIGINT NOT NULL
    )`,
  ],
};
