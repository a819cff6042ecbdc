import type { Migration } from './index.js';

// Federation transactions already handled, by sending server and
// transaction ID, with the answer given: a server that retries a /send
// (it never saw our 200) gets the same answer and nothing is done twice
// (server-server-api "Transactions"). Old rows are pruned after a day.
export const receivedTransactionsMigration: Migration = {
  id: 20,
  name: 'received_transactions',
  statements: [
    `CREATE TABLE federation_received_transactions (
      origin TEXT NOT NULL,
      txn_id TEXT NOT NULL,
      response TEXT NOT NULL,
      received_ts BIGINT NOT NULL,
      PRIMARY KEY (origin, txn_id)
    )`,
    'CREATE INDEX federation_received_transactions_ts ON federation_received_transactions (received_ts)',
  ],
};
