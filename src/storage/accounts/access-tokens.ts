// Access and refresh tokens, stored and looked up only by their SHA-256
// hash. Every request resolves an access token, so resolutions are cached;
// deleting a token or changing its user's flags invalidates the user's
// entries. An access token issued by a refresh belongs to its refresh token:
// deleting a refresh token deletes the access tokens issued with it.
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database, SqlValue } from '../database.js';
import { placeholders } from './devices.js';

/** What an access token resolves to, with the flags of its user. */
export interface AccessTokenOwner {
  tokenId: number;
  userId: string;
  deviceId: string;
  isGuest: boolean;
  isAdmin: boolean;
  deactivated: boolean;
  locked: boolean;
  /** When the token stops working; null for never. */
  validUntilMs: number | null;
  /** The refresh token issued with it, if any. */
  refreshTokenId: number | null;
  /** Whether it has been used since it was issued. */
  used: boolean;
}

interface OwnerRow {
  id: number;
  user_id: string;
  device_id: string;
  is_guest: number;
  is_admin: number;
  deactivated: number;
  locked: number;
  valid_until_ms: number | null;
  refresh_token_id: number | null;
  used: number;
}

export interface AccessTokenOptions {
  validUntilMs?: number | null;
  refreshTokenId?: number | null;
}

export interface RefreshTokenRecord {
  id: number;
  userId: string;
  deviceId: string;
  /** The refresh token a refresh replaced this one with, while this one may still be spent again. */
  nextTokenId: number | null;
  /** When it stops working; null for never. */
  expiryTs: number | null;
}

interface RefreshRow {
  id: number;
  user_id: string;
  device_id: string;
  next_token_id: number | null;
  expiry_ts: number | null;
}

/** Enough for every active session of a large server; past it the cache starts over. */
const CACHE_LIMIT = 10_000;

export class AccessTokenStore {
  private readonly owners: CommitConsistentCache<AccessTokenOwner>;

  constructor(private readonly db: Database) {
    this.owners = new CommitConsistentCache(db, CACHE_LIMIT);
  }

  /** Stores a token hash for a device; returns the token's row id. */
  async insert(tokenHash: string, userId: string, deviceId: string, createdTs: number, options: AccessTokenOptions = {}): Promise<number> {
    const row = await this.db.queryOne<{ id: number }>(
      `INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, valid_until_ms, refresh_token_id)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      [tokenHash, userId, deviceId, createdTs, options.validUntilMs ?? null, options.refreshTokenId ?? null],
    );
    return Number(row!.id);
  }

  findByHash(tokenHash: string): Promise<AccessTokenOwner | undefined> {
    return this.owners.get(tokenHash, () => this.readOwner(tokenHash));
  }

  /**
   * The user's tokens or flags changed: their cached resolutions go. Call it
   * after the write (in its transaction, if any), so that outside a
   * transaction the write is committed when the entries go.
   */
  forgetUser(userId: string): void {
    this.owners.invalidate((_hash, owner) => owner.userId === userId);
  }

  private async readOwner(tokenHash: string): Promise<AccessTokenOwner | undefined> {
    const row = await this.db.queryOne<OwnerRow>(
      `SELECT t.id, t.user_id, t.device_id, u.is_guest, u.is_admin, u.deactivated, u.locked, t.valid_until_ms, t.refresh_token_id, t.used
       FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?`,
      [tokenHash],
    );
    if (!row) return undefined;
    return {
      tokenId: Number(row.id),
      userId: row.user_id,
      deviceId: row.device_id,
      isGuest: Number(row.is_guest) === 1,
      isAdmin: Number(row.is_admin) === 1,
      deactivated: Number(row.deactivated) === 1,
      locked: Number(row.locked) === 1,
      validUntilMs: row.valid_until_ms === null ? null : Number(row.valid_until_ms),
      refreshTokenId: row.refresh_token_id === null ? null : Number(row.refresh_token_id),
      used: Number(row.used) === 1,
    };
  }

  /**
   * The first use of an access token a refresh issued: the refresh token
   * spent to get it is revoked, with its own access tokens (client-server
   * API, "Refreshing access tokens": the old refresh token stays valid only
   * until the new access token or refresh token is used).
   */
  async markUsed(owner: AccessTokenOwner): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { changes } = await tx.execute('UPDATE access_tokens SET used = 1 WHERE id = ? AND used = 0', [owner.tokenId]);
      if (changes === 1 && owner.refreshTokenId !== null) await this.deleteRefreshTokens('next_token_id = ?', [owner.refreshTokenId]);
      this.forgetUser(owner.userId);
    });
  }

  async insertRefreshToken(tokenHash: string, userId: string, deviceId: string, expiryTs: number | null, createdTs: number): Promise<number> {
    const row = await this.db.queryOne<{ id: number }>(
      'INSERT INTO refresh_tokens (token_hash, user_id, device_id, expiry_ts, created_ts) VALUES (?, ?, ?, ?, ?) RETURNING id',
      [tokenHash, userId, deviceId, expiryTs, createdTs],
    );
    return Number(row!.id);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db.queryOne<RefreshRow>(
      'SELECT id, user_id, device_id, next_token_id, expiry_ts FROM refresh_tokens WHERE token_hash = ?',
      [tokenHash],
    );
    return (
      row && {
        id: Number(row.id),
        userId: row.user_id,
        deviceId: row.device_id,
        nextTokenId: row.next_token_id === null ? null : Number(row.next_token_id),
        expiryTs: row.expiry_ts === null ? null : Number(row.expiry_ts),
      }
    );
  }

  /**
   * `spent` was refreshed into `nextId`. Only the last two generations are
   * kept, as in Synapse: a successor `spent` had from an earlier, interrupted
   * refresh goes, and so does the token `spent` itself replaced. False when
   * `spent` has been revoked meanwhile.
   */
  async replaceRefreshToken(spent: RefreshTokenRecord, nextId: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Locks the row first: concurrent refreshes with one token take turns, each seeing the successor the other left.
      if ((await tx.execute('UPDATE refresh_tokens SET next_token_id = next_token_id WHERE id = ?', [spent.id])).changes === 0) return false;
      const earlier = await tx.queryOne<{ next_token_id: number | null }>('SELECT next_token_id FROM refresh_tokens WHERE id = ?', [spent.id]);
      await tx.execute('UPDATE refresh_tokens SET next_token_id = ? WHERE id = ?', [nextId, spent.id]);
      const successor = earlier?.next_token_id ?? null;
      if (successor !== null) await this.deleteRefreshTokens('id = ?', [Number(successor)]);
      await this.deleteRefreshTokens('next_token_id = ?', [spent.id]);
      this.forgetUser(spent.userId);
      return true;
    });
  }

  async deleteForDevices(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const where = `user_id = ? AND device_id IN (${placeholders(deviceIds.length)})`;
    const params = [userId, ...deviceIds];
    const { changes } = await this.db.execute(`DELETE FROM access_tokens WHERE ${where}`, params);
    await this.db.execute(`DELETE FROM refresh_tokens WHERE ${where}`, params);
    this.forgetUser(userId);
    return changes;
  }

  /** Deletes every token of the user except those of `keepDeviceId` (when given). */
  async deleteForUser(userId: string, keepDeviceId?: string): Promise<number> {
    const params: SqlValue[] = [userId];
    let where = 'user_id = ?';
    if (keepDeviceId !== undefined) {
      where += ' AND device_id <> ?';
      params.push(keepDeviceId);
    }
    const { changes } = await this.db.execute(`DELETE FROM access_tokens WHERE ${where}`, params);
    await this.db.execute(`DELETE FROM refresh_tokens WHERE ${where}`, params);
    this.forgetUser(userId);
    return changes;
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM access_tokens WHERE user_id = ?', [userId]);
    return Number(row?.n ?? 0);
  }

  /** Refresh tokens matching `where`, and the access tokens issued with them. Call inside a transaction. */
  private async deleteRefreshTokens(where: string, params: SqlValue[]): Promise<void> {
    await this.db.execute(`DELETE FROM access_tokens WHERE refresh_token_id IN (SELECT id FROM refresh_tokens WHERE ${where})`, params);
    await this.db.execute(`DELETE FROM refresh_tokens WHERE ${where}`, params);
  }
}
