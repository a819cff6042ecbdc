// Other servers' signing keys (table server_keys, migration 17): what the
// key ring caches across restarts and what the notary serves.
import type { Database } from './database.js';

export interface StoredServerKey {
  serverName: string;
  /** e.g. "ed25519:a_abcd" */
  keyId: string;
  /** Unpadded base64 of the 32-byte public key. */
  verifyKey: string;
  /** Until when the key may verify signatures (see the migration). */
  validUntilTs: number;
  /** Set when the server lists the key in old_verify_keys. */
  expiredTs: number | null;
  /** The server itself, or the notary the key came through. */
  fromServer: string;
  fetchedTs: number;
  /** The valid_until_ts of the response that listed the key. */
  responseValidUntilTs: number;
  /** That response as canonical JSON, with the server's own signatures only. */
  keyJson: string;
}

interface ServerKeyRow {
  server_name: string;
  key_id: string;
  verify_key: string;
  valid_until_ts: number | string;
  expired_ts: number | string | null;
  from_server: string;
  fetched_ts: number | string;
  response_valid_until_ts: number | string;
  key_json: string;
}

function fromRow(row: ServerKeyRow): StoredServerKey {
  return {
    serverName: row.server_name,
    keyId: row.key_id,
    verifyKey: row.verify_key,
    validUntilTs: Number(row.valid_until_ts),
    expiredTs: row.expired_ts === null ? null : Number(row.expired_ts),
    fromServer: row.from_server,
    fetchedTs: Number(row.fetched_ts),
    responseValidUntilTs: Number(row.response_valid_until_ts),
    keyJson: row.key_json,
  };
}

export class ServerKeyStore {
  constructor(private readonly db: Database) {}

  async getKey(serverName: string, keyId: string): Promise<StoredServerKey | undefined> {
    const row = await this.db.queryOne<ServerKeyRow>('SELECT * FROM server_keys WHERE server_name = ? AND key_id = ?', [serverName, keyId]);
    return row === undefined ? undefined : fromRow(row);
  }

  async getKeys(serverName: string): Promise<StoredServerKey[]> {
    const rows = await this.db.query<ServerKeyRow>('SELECT * FROM server_keys WHERE server_name = ? ORDER BY key_id', [serverName]);
    return rows.map(fromRow);
  }

  /**
   * Stores the keys of one response. A key already stored from a response
   * valid for longer is kept: a notary's stale copy never replaces a fresher one.
   */
  async storeKeys(keys: readonly StoredServerKey[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const k of keys) {
        await tx.execute(
          `INSERT INTO server_keys (server_name, key_id, verify_key, valid_until_ts, expired_ts, from_server, fetched_ts, response_valid_until_ts, key_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (server_name, key_id) DO UPDATE SET
             verify_key = excluded.verify_key, valid_until_ts = excluded.valid_until_ts, expired_ts = excluded.expired_ts,
             from_server = excluded.from_server, fetched_ts = excluded.fetched_ts,
             response_valid_until_ts = excluded.response_valid_until_ts, key_json = excluded.key_json
           WHERE server_keys.response_valid_until_ts <= excluded.response_valid_until_ts`,
          [k.serverName, k.keyId, k.verifyKey, k.validUntilTs, k.expiredTs, k.fromServer, k.fetchedTs, k.responseValidUntilTs, k.keyJson],
        );
      }
    });
  }
}
