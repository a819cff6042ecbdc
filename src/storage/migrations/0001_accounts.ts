import type { Migration } from './index.js';

// Server identity, users, devices, access tokens, account data, registration tokens.
// Booleans are INTEGER 0/1 so both engines read them the same way.
export const accountsMigration: Migration = {
  id: 1,
  name: 'accounts',
  statements: [
    // Facts fixed for the database's lifetime, such as the server name it was created for.
    'CREATE TABLE server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',

    // password_hash is argon2id for accounts made here, or bcrypt ($2b$) for ones imported from Synapse.
    `CREATE TABLE users (
      user_id TEXT PRIMARY KEY,
      password_hash TEXT,
      is_admin INTEGER NOT NULL DEFAULT 0,
      is_guest INTEGER NOT NULL DEFAULT 0,
      deactivated INTEGER NOT NULL DEFAULT 0,
      created_ts BIGINT NOT NULL
    )`,
    `CREATE TABLE devices (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      display_name TEXT,
      last_seen_ip TEXT,
      last_seen_user_agent TEXT,
      last_seen_ts BIGINT,
      created_ts BIGINT NOT NULL,
      PRIMARY KEY (user_id, device_id)
    )`,
    // Only a SHA-256 of each token is kept: a leaked database does not leak sessions.
    `CREATE TABLE access_tokens (
      id SERIAL_PK,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      created_ts BIGINT NOT NULL
    )`,
    'CREATE INDEX access_tokens_by_device ON access_tokens (user_id, device_id)',
    'CREATE TABLE profiles (user_id TEXT PRIMARY KEY, displayname TEXT, avatar_url TEXT)',

    // room_id '' holds global account data. stream_id orders every write for /sync.
    `CREATE TABLE account_data (
      user_id TEXT NOT NULL,
      room_id TEXT NOT NULL,
      type TEXT NOT NULL,
      content TEXT NOT NULL,
      stream_id BIGINT NOT NULL,
      PRIMARY KEY (user_id, room_id, type)
    )`,
    'CREATE INDEX account_data_by_stream ON account_data (user_id, stream_id)',
    // Named counters advanced with UPDATE … RETURNING: the row lock serialises
    // writers, so positions become visible in the order they were handed out.
    'CREATE TABLE account_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    "INSERT INTO account_counters (name, value) VALUES ('account_data_stream', 0), ('generated_localpart', 0)",

    // Synapse's registration_tokens shape: pending counts UIA sessions that
    // passed the token stage but have not finished registering.
    `CREATE TABLE registration_tokens (
      token TEXT PRIMARY KEY,
      uses_allowed INTEGER,
      pending INTEGER NOT NULL DEFAULT 0,
      completed INTEGER NOT NULL DEFAULT 0,
      expiry_time BIGINT
    )`,
    // User-interactive auth sessions, persisted so a restart does not strand a
    // half-finished registration (and its pending token use).
    `CREATE TABLE uia_sessions (
      session_id TEXT PRIMARY KEY,
      operation TEXT NOT NULL,
      completed_stages TEXT NOT NULL,
      registration_token TEXT,
      created_ts BIGINT NOT NULL
    )`,
  ],
};
