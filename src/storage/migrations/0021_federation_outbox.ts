import type { Migration } from './index.js';

// What this server owes other servers, kept until they acknowledge it:
// one row per PDU (by event ID) or EDU (its JSON) per destination, sent in
// id order (server-server-api "Transactions"), so nothing queued is lost
// when a peer is down or we restart. federation_destinations keeps each
// peer's delivery health: the back-off after failures, and the last
// success and failure with its reason, for operators.
export const federationOutboxMigration: Migration = {
  id: 21,
  name: 'federation_outbox',
  statements: [
    `CREATE TABLE federation_outbox (
      id SERIAL_PK,
      destination TEXT NOT NULL,
      kind TEXT NOT NULL,
      payload TEXT NOT NULL,
      queued_ts BIGINT NOT NULL
    )`,
    'CREATE INDEX federation_outbox_destination ON federation_outbox (destination, id)',
    `CREATE TABLE federation_destinations (
      destination TEXT PRIMARY KEY,
      failures INTEGER NOT NULL DEFAULT 0,
      retry_after_ts BIGINT NOT NULL DEFAULT 0,
      last_success_ts BIGINT,
      last_failure_ts BIGINT,
      last_error TEXT
    )`,
  ],
};
