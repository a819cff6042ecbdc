import type { Migration } from './index.js';

// Filters, receipts, presence. (Account data lives in 0001; typing is in memory.)
export const userDataMigration: Migration = {
  id: 4,
  name: 'user_data',
  statements: [
    // Filter IDs are numbers handed out by one sequence; each row remembers its
    // owner, so a user can only read back their own filters.
    `CREATE TABLE user_filters (
      filter_id SERIAL_PK,
      user_id TEXT NOT NULL,
      filter_json TEXT NOT NULL
    )`,
    'CREATE INDEX user_filters_by_user ON user_filters (user_id)',

    // The latest receipt per (room, type, user, thread); thread_id '' is an
    // unthreaded receipt. event_stream_ordering lets a receipt only move forward.
    `CREATE TABLE receipts (
      room_id TEXT NOT NULL,
      receipt_type TEXT NOT NULL,
      user_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      event_stream_ordering BIGINT NOT NULL,
      ts BIGINT NOT NULL,
      stream_id BIGINT NOT NULL,
      PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
    )`,
    'CREATE INDEX receipts_by_stream ON receipts (stream_id)',
    'CREATE INDEX receipts_by_room_stream ON receipts (room_id, stream_id)',

    // One row per user; stream_id moves when what others see changes.
    `CREATE TABLE presence (
      user_id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      status_msg TEXT,
      last_active_ts BIGINT NOT NULL,
      stream_id BIGINT NOT NULL
    )`,
    'CREATE INDEX presence_by_stream ON presence (stream_id)',

    // Named stream counters advanced with UPDATE … RETURNING (see account_counters in 0001).
    'CREATE TABLE user_data_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    "INSERT INTO user_data_counters (name, value) VALUES ('receipts_stream', 0), ('presence_stream', 0)",
  ],
};
