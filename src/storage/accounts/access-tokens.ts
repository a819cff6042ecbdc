// Access tokens, stored and looked up only by their SHA-256 hash. Every
// request resolves one, so resolutions are cached; deleting a token or
// changing its user's flags invalidates the user's entries.
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
}

interface OwnerRow {
  id: number;
  user_id: string;
  device_id: string;
  is_guest: number;
  is_admin: number;
  deactivated: number;
  locked: number;
}

/** Enough for every active session of a large server; past it the cache starts over. */
const CACHE_LIMIT = 10_000;

export class AccessTokenStore {
  private readonly owners: CommitConsistentCache<AccessTokenOwner>;

  constructor(private readonly db: Database) {
    this.owners = new CommitConsistentCache(db, CACHE_LIMIT);
  }

  /** Stores a token hash for a device; returns the token's row id. */
  async insert(tokenHash: string, userId: string, deviceId: string, createdTs: number): Promise<number> {
    const row = await this.db.queryOne<{ id: number }>(
      'INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES (?, ?, ?, ?) RETURNING id',
      [tokenHash, userId, deviceId, createdTs],
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
      `SELECT t.id, t.user_id, t.device_id, u.is_guest, u.is_admin, u.deactivated, u.locked
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
    };
  }

  async deleteForDevices(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const { changes } = await this.db.execute(
      `DELETE FROM access_tokens WHERE user_id = ? AND device_id IN (${placeholders(deviceIds.length)})`,
      [userId, ...deviceIds],
    );
    this.forgetUser(userId);
    return changes;
  }

  /** Deletes every token of the user except those of `keepDeviceId` (when given). */
  async deleteForUser(userId: string, keepDeviceId?: string): Promise<number> {
    const params: SqlValue[] = [userId];
    let sql = 'DELETE FROM access_tokens WHERE user_id = ?';
    if (keepDeviceId !== undefined) {
      sql += ' AND device_id <> ?';
      params.push(keepDeviceId);
    }
    const { changes } = await this.db.execute(sql, params);
    this.forgetUser(userId);
    return changes;
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM access_tokens WHERE user_id = ?', [userId]);
    return Number(row?.n ?? 0);
  }
}
