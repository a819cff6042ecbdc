// Registration tokens (spec: "Token-authenticated registration"; admin API
// shape from Synapse): a token is usable while it has not expired and
// pending + completed < uses_allowed (null: unlimited).
import type { Database, SqlValue } from '../database.js';

export interface RegistrationToken {
  token: string;
  usesAllowed: number | null;
  pending: number;
  completed: number;
  expiryTime: number | null;
}

interface TokenRow {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

const COLUMNS = 'token, uses_allowed, pending, completed, expiry_time';
const USABLE = '(uses_allowed IS NULL OR pending + completed < uses_allowed) AND (expiry_time IS NULL OR expiry_time > ?)';

export class RegistrationTokenStore {
  constructor(private readonly db: Database) {}

  /** False when the token already exists. */
  async create(token: string, usesAllowed: number | null, expiryTime: number | null): Promise<boolean> {
    const { changes } = await this.db.execute(
      `INSERT INTO registration_tokens (token, uses_allowed, pending, completed, expiry_time) VALUES (?, ?, 0, 0, ?)
       ON CONFLICT (token) DO NOTHING`,
      [token, usesAllowed, expiryTime],
    );
    return changes === 1;
  }

  async get(token: string): Promise<RegistrationToken | undefined> {
    const row = await this.db.queryOne<TokenRow>(`SELECT ${COLUMNS} FROM registration_tokens WHERE token = ?`, [token]);
    return row && toToken(row);
  }

  /** All tokens, or only the usable (`valid: true`) or unusable ones at time `now`. */
  async list(filter: { valid?: boolean; now: number }): Promise<RegistrationToken[]> {
    let where = '';
    const params: SqlValue[] = [];
    if (filter.valid !== undefined) {
      where = filter.valid ? `WHERE ${USABLE}` : `WHERE NOT (${USABLE})`;
      params.push(filter.now);
    }
    const rows = await this.db.query<TokenRow>(`SELECT ${COLUMNS} FROM registration_tokens ${where} ORDER BY token`, params);
    return rows.map(toToken);
  }

  /** Updates the fields given; false when the token does not exist. */
  async update(token: string, changes: { usesAllowed?: number | null; expiryTime?: number | null }): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (changes.usesAllowed !== undefined) {
      sets.push('uses_allowed = ?');
      params.push(changes.usesAllowed);
    }
    if (changes.expiryTime !== undefined) {
      sets.push('expiry_time = ?');
      params.push(changes.expiryTime);
    }
    if (sets.length === 0) return (await this.get(token)) !== undefined;
    const result = await this.db.execute(`UPDATE registration_tokens SET ${sets.join(', ')} WHERE token = ?`, [...params, token]);
    return result.changes === 1;
  }

  async delete(token: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM registration_tokens WHERE token = ?', [token])).changes === 1;
  }

  async isUsable(token: string, now: number): Promise<boolean> {
    const row = await this.db.queryOne(`SELECT 1 AS one FROM registration_tokens WHERE token = ? AND ${USABLE}`, [token, now]);
    return row !== undefined;
  }

  /**
   * Reserves one use for a registration in progress, atomically with the
   * usability check so two racing registrations cannot both take the last use.
   */
  async reserve(token: string, now: number): Promise<boolean> {
    const { changes } = await this.db.execute(
      `UPDATE registration_tokens SET pending = pending + 1 WHERE token = ? AND ${USABLE}`,
      [token, now],
    );
    return changes === 1;
  }

  /** A reserved use was spent: the registration completed. */
  async complete(token: string): Promise<void> {
    await this.db.execute(
      'UPDATE registration_tokens SET pending = pending - 1, completed = completed + 1 WHERE token = ? AND pending > 0',
      [token],
    );
  }

  /** A reserved use was abandoned: its session expired. */
  async release(token: string): Promise<void> {
    await this.db.execute('UPDATE registration_tokens SET pending = pending - 1 WHERE token = ? AND pending > 0', [token]);
  }
}

function toToken(row: TokenRow): RegistrationToken {
  return {
    token: row.token,
    usesAllowed: row.uses_allowed === null ? null : Number(row.uses_allowed),
    pending: Number(row.pending),
    completed: Number(row.completed),
    expiryTime: row.expiry_time === null ? null : Number(row.expiry_time),
  };
}
