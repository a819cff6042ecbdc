// Single-use, short-lived m.login.token tokens (POST /login/get_token),
// stored only by their hash like access tokens.
import type { Database } from '../database.js';

export class LoginTokenStore {
  constructor(private readonly db: Database) {}

  /** Stores a new token; expired ones nobody used are cleared on the way. */
  async insert(tokenHash: string, userId: string, expiryTs: number, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute('DELETE FROM login_tokens WHERE expiry_ts <= ?', [now]);
      await tx.execute('INSERT INTO login_tokens (token_hash, user_id, expiry_ts) VALUES (?, ?, ?)', [tokenHash, userId, expiryTs]);
    });
  }

  /**
   * Spends the token: its user, or undefined when it is unknown, already
   * spent or expired. The DELETE makes it single use even under concurrent logins.
   */
  async consume(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await this.db.queryOne<{ user_id: string; expiry_ts: number }>(
      'DELETE FROM login_tokens WHERE token_hash = ? RETURNING user_id, expiry_ts',
      [tokenHash],
    );
    return row && Number(row.expiry_ts) > now ? row.user_id : undefined;
  }
}
