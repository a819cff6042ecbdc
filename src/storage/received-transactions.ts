// Federation transactions already handled (see migration 20).
import type { JsonObject } from '../core/types.js';
import type { Database } from './database.js';

export class ReceivedTransactionStore {
  constructor(private readonly db: Database) {}

  async response(origin: string, txnId: string): Promise<JsonObject | undefined> {
    const row = await this.db.queryOne<{ response: string }>('SELECT response FROM federation_received_transactions WHERE origin = ? AND txn_id = ?', [origin, txnId]);
    return row && (JSON.parse(row.response) as JsonObject);
  }

  async record(origin: string, txnId: string, response: JsonObject, now: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO federation_received_transactions (origin, txn_id, response, received_ts) VALUES (?, ?, ?, ?) ON CONFLICT (origin, txn_id) DO NOTHING',
      [origin, txnId, JSON.stringify(response), now],
    );
  }

  /** Forgets transactions received before `before`; a retry that late is a new transaction. */
  async prune(before: number): Promise<number> {
    return (await this.db.execute('DELETE FROM federation_received_transactions WHERE received_ts < ?', [before])).changes;
  }
}
