import type { Migration } from './index.js';

// Other servers' signing keys (server-server-api.md, "Retrieving server
// keys"), fetched directly or through a notary, kept across restarts so a
// restart does not refetch every key and old events stay verifiable after a
// server rotates its key. One row per (server, key ID):
// - valid_until_ts: until when the key may verify signatures: the lesser of
//   the response's valid_until_ts and 7 days after it was fetched (rooms v5+),
//   or the key's expired_ts when it is listed in old_verify_keys;
// - expired_ts: set for keys from old_verify_keys (never valid for requests);
// - key_json: the response, as signed by the server itself, that listed the
//   key; served again, with our signature added, when we act as a notary;
// - response_valid_until_ts: that response's own valid_until_ts, which the
//   notary compares with minimum_valid_until_ts, and which decides whether a
//   newly fetched response replaces the stored one (never an older one).
export const serverKeysMigration: Migration = {
  id: 17,
  name: 'server_keys',
  statements: [
    `CREATE TABLE server_keys (
      server_name TEXT NOT NULL,
      key_id TEXT NOT NULL,
      verify_key TEXT NOT NULL,
      valid_until_ts BIGINT NOT NULL,
      expired_ts BIGINT,
      from_server TEXT NOT NULL,
      fetched_ts BIGINT NOT NULL,
      response_valid_until_ts BIGINT NOT NULL,
      key_json TEXT NOT NULL,
      PRIMARY KEY (server_name, key_id)
    )`,
  ],
};
