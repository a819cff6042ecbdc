import type { Migration } from './index.js';

// Events, state snapshots, memberships, aliases. Flags are INTEGER 0/1 rather
// than BOOLEAN so both engines read them back alike.
export const roomsMigration: Migration = {
  id: 2,
  name: 'rooms',
  statements: [
    `CREATE TABLE rooms (
      room_id TEXT PRIMARY KEY,
      room_version TEXT NOT NULL,
      creator TEXT NOT NULL,
      is_public INTEGER NOT NULL DEFAULT 0,
      created_ts BIGINT NOT NULL
    )`,
    'CREATE INDEX rooms_public ON rooms (is_public, created_ts)',

    // The events stream's high-water mark. Persisting takes this row's lock
    // first, so positions are handed out in commit order and a reader that
    // sees position N also sees every event at or below N.
    'CREATE TABLE event_stream_position (id INTEGER PRIMARY KEY CHECK (id = 1), position BIGINT NOT NULL)',
    'INSERT INTO event_stream_position (id, position) VALUES (1, 0)',

    // stream_ordering is assigned explicitly from event_stream_position;
    // SERIAL_PK is only for its type: the rowid in SQLite, BIGINT in PostgreSQL.
    // `json` is the PDU's canonical JSON exactly as received or created.
    `CREATE TABLE events (
      stream_ordering SERIAL_PK,
      event_id TEXT NOT NULL UNIQUE,
      room_id TEXT NOT NULL,
      type TEXT NOT NULL,
      state_key TEXT,
      sender TEXT NOT NULL,
      depth BIGINT NOT NULL,
      origin_server_ts BIGINT NOT NULL,
      membership TEXT,
      redacts TEXT,
      outlier INTEGER NOT NULL DEFAULT 0,
      rejected_reason TEXT,
      soft_failed INTEGER NOT NULL DEFAULT 0,
      redacted_because TEXT,
      state_snapshot_before BIGINT,
      replaces_state TEXT,
      json TEXT NOT NULL
    )`,
    'CREATE INDEX events_room_stream ON events (room_id, stream_ordering)',
    'CREATE INDEX events_room_depth ON events (room_id, depth)',

    `CREATE TABLE event_edges (
      event_id TEXT NOT NULL,
      prev_event_id TEXT NOT NULL,
      PRIMARY KEY (event_id, prev_event_id)
    )`,
    'CREATE INDEX event_edges_prev ON event_edges (prev_event_id)',

    `CREATE TABLE event_auth_edges (
      event_id TEXT NOT NULL,
      auth_event_id TEXT NOT NULL,
      PRIMARY KEY (event_id, auth_event_id)
    )`,

    `CREATE TABLE forward_extremities (
      room_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      PRIMARY KEY (room_id, event_id)
    )`,

    // Client transaction IDs are scoped to the device that sent them
    // (client-server-api "Transaction identifiers").
    `CREATE TABLE event_txn_ids (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      txn_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      PRIMARY KEY (user_id, device_id, txn_id)
    )`,
    // Reverse lookup: the sending device sees unsigned.transaction_id on its own events.
    'CREATE INDEX event_txn_ids_event ON event_txn_ids (event_id)',

    // State snapshots (see src/storage/rooms/state.ts): interned keys and event
    // IDs, snapshots deduplicated by hash, each a diff against its parent.
    `CREATE TABLE state_keys (
      id SERIAL_PK,
      type TEXT NOT NULL,
      state_key TEXT NOT NULL,
      UNIQUE (type, state_key)
    )`,
    'CREATE TABLE state_event_nids (id SERIAL_PK, event_id TEXT NOT NULL UNIQUE)',
    `CREATE TABLE state_snapshots (
      id SERIAL_PK,
      hash TEXT NOT NULL UNIQUE,
      parent_id BIGINT REFERENCES state_snapshots (id),
      layer INTEGER NOT NULL,
      state_size INTEGER NOT NULL
    )`,
    // One row per key the snapshot changes relative to its parent (or per key
    // of a base); a NULL event_nid removes the key.
    `CREATE TABLE state_snapshot_entries (
      snapshot_id BIGINT NOT NULL REFERENCES state_snapshots (id),
      key_nid BIGINT NOT NULL,
      event_nid BIGINT,
      PRIMARY KEY (snapshot_id, key_nid)
    )`,

    `CREATE TABLE current_state (
      room_id TEXT NOT NULL,
      type TEXT NOT NULL,
      state_key TEXT NOT NULL,
      event_id TEXT NOT NULL,
      PRIMARY KEY (room_id, type, state_key)
    )`,

    `CREATE TABLE room_memberships (
      room_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      membership TEXT NOT NULL,
      event_id TEXT NOT NULL,
      stream_ordering BIGINT NOT NULL,
      -- Set by /forget after leaving; any new membership clears it.
      forgotten INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (room_id, user_id)
    )`,
    'CREATE INDEX room_memberships_user ON room_memberships (user_id, membership)',

    `CREATE TABLE room_aliases (
      alias TEXT PRIMARY KEY,
      room_id TEXT NOT NULL,
      creator TEXT NOT NULL,
      servers TEXT NOT NULL,
      created_ts BIGINT NOT NULL
    )`,
    'CREATE INDEX room_aliases_room ON room_aliases (room_id)',
  ],
};
