import type { Migration } from './index.js';

// Transaction IDs are scoped to a device *and an endpoint*
// (client-server-api "Transaction identifiers": a retransmission has the
// same transaction ID and the same request path). The key gains `scope`,
// the endpoint and its path parameters (e.g. the room and event type of a
// send), so one ID used in two rooms, or for a send and a redaction, names
// two requests. Rows from before keep an empty scope: only a retry in
// flight across the upgrade loses its deduplication.
export const txnScopeMigration: Migration = {
  id: 10,
  name: 'txn_scope',
  statements: [
    `CREATE TABLE event_txn_ids_scoped (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      scope TEXT NOT NULL,
      txn_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      PRIMARY KEY (user_id, device_id, scope, txn_id)
    )`,
    `INSERT INTO event_txn_ids_scoped (user_id, device_id, scope, txn_id, event_id)
     SELECT user_id, device_id, '', txn_id, event_id FROM event_txn_ids`,
    'DROP TABLE event_txn_ids',
    'ALTER TABLE event_txn_ids_scoped RENAME TO event_txn_ids',
    'CREATE INDEX event_txn_ids_event ON event_txn_ids (event_id)',
  ],
};
