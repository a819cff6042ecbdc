// OpenID tokens (client-server-api "OpenID"): short-lived tokens a user hands
// to a third party (e.g. an integration manager), which asks this server's
// federation API who the token belongs to. Stored by SHA-256 hash only.
import type { Database } from '../database.js';

export class OpenIdTokenStore {
  constructor(private readonly db: Database) {}

  async insert(tokenHash: string, userId: string, expiresTs: number): Promise<void> {
    await this.db.execute('INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)', [tokenHash, userId, expiresTs]);
  }

  /** The token's user, if it exists and has not expired at `now`. */
  async findUser(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await this.db.queryOne<{ user_id: string }>('SELECT user_id FROM openid_tokens WHERE token_hash = ? AND expires_ts > ?', [
      tokenHash,
      now,
    ]);
    return row?.user_id;
  }

  /** Forgets expired tokens; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    const { changes } = await this.db.execute('DELETE FROM openid_tokens WHERE expires_ts <= ?', [now]);
    return changes;
  }
}
