import type { Migration } from './index.js';

// Full-text search over room events, the user directory, and content reports.
export const searchMigration: Migration = {
  id: 6,
  name: 'search',
  statements: [
    // One row per searchable event (content.body of m.room.message, content.name
    // of m.room.name, content.topic of m.room.topic), keyed by the event's stream
    // position. SQLite: an FTS5 table whose rowid is events.stream_ordering, so the
    // join back to events is by primary key. PostgreSQL: a tsvector with a GIN index.
    // Both tokenise without stemming or stop words ('simple'), so the two engines
    // find the same events for the same words.
    {
      sqlite: `CREATE VIRTUAL TABLE event_search USING fts5(
        value, room_id UNINDEXED, key UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
      )`,
      postgres: `CREATE TABLE event_search (
        stream_ordering BIGINT PRIMARY KEY,
        room_id TEXT NOT NULL,
        key TEXT NOT NULL,
        vector TSVECTOR NOT NULL
      )`,
    },
    { postgres: 'CREATE INDEX event_search_vector ON event_search USING GIN (vector)' },
    { postgres: 'CREATE INDEX event_search_room ON event_search (room_id)' },

    // The user directory: users a search may find. search_words holds the
    // lower-cased words of the localpart and display name, space-delimited and
    // space-padded, so a word-prefix match is LIKE '% word%' on both engines.
    `CREATE TABLE user_directory (
      user_id TEXT PRIMARY KEY,
      display_name TEXT,
      avatar_url TEXT,
      search_words TEXT NOT NULL
    )`,
    // Rooms whose members everyone may discover: join rule public or history
    // world_readable (Synapse's users_in_public_rooms criterion).
    'CREATE TABLE user_directory_public_rooms (room_id TEXT PRIMARY KEY)',

    // Content reports (report_content.yaml); event_id is NULL for a report of a whole room.
    `CREATE TABLE content_reports (
      id SERIAL_PK,
      received_ts BIGINT NOT NULL,
      room_id TEXT NOT NULL,
      event_id TEXT,
      user_id TEXT NOT NULL,
      reason TEXT,
      score INTEGER
    )`,
    'CREATE INDEX content_reports_ts ON content_reports (received_ts)',
  ],
};
