// Local user accounts: password hash, admin and guest flags, deactivation,
// the moderation flags (locked, suspended), and erasure.
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database } from '../database.js';
import { placeholders, queryInChunks } from '../rooms/sql.js';

export interface UserRecord {
  userId: string;
  /** argon2id (`$argon2id$…`) or bcrypt (`$2b$…`, imported from Synapse); null for guests. */
  passwordHash: string | null;
  isAdmin: boolean;
  isGuest: boolean;
  deactivated: boolean;
  /** Every request but logout is refused (client-server-api "Account locking"). */
  locked: boolean;
  /** Reads work; sending, joining and profile changes do not ("Account suspension"). */
  suspended: boolean;
  createdTs: number;
}

interface UserRow {
  user_id: string;
  password_hash: string | null;
  is_admin: number;
  is_guest: number;
  deactivated: number;
  locked: number;
  suspended: number;
  created_ts: number;
}

export interface NewUser {
  userId: string;
  passwordHash: string | null;
  isAdmin?: boolean;
  isGuest?: boolean;
  createdTs: number;
}

/** Senders whose erasure flag stays cached (every served event's sender is looked up). */
const CACHED_ERASURE_FLAGS = 100_000;

export class UserStore {
  private readonly erasure: CommitConsistentCache<boolean>;

  /**
   * `onFlagsChanged` hears of a change to the flags access tokens resolve
   * with (deactivated, admin), so cached resolutions can be dropped.
   */
  constructor(
    private readonly db: Database,
    private readonly onFlagsChanged: (userId: string) => void = () => {},
  ) {
    this.erasure = new CommitConsistentCache(db, CACHED_ERASURE_FLAGS);
  }

  /** Inserts the user; false when the ID is already taken (any user, deactivated ones included). */
  async create(user: NewUser): Promise<boolean> {
    // ON CONFLICT rather than catching the violation: in PostgreSQL a failed
    // statement would abort the surrounding transaction.
    const { changes } = await this.db.execute(
      `INSERT INTO users (user_id, password_hash, is_admin, is_guest, deactivated, created_ts)
       VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (user_id) DO NOTHING`,
      [user.userId, user.passwordHash, user.isAdmin ?? false, user.isGuest ?? false, user.createdTs],
    );
    return changes === 1;
  }

  async get(userId: string): Promise<UserRecord | undefined> {
    const row = await this.db.queryOne<UserRow>(
      'SELECT user_id, password_hash, is_admin, is_guest, deactivated, locked, suspended, created_ts FROM users WHERE user_id = ?',
      [userId],
    );
    return row && toUser(row);
  }

  async exists(userId: string): Promise<boolean> {
    return (await this.db.queryOne('SELECT 1 AS one FROM users WHERE user_id = ?', [userId])) !== undefined;
  }

  async setPasswordHash(userId: string, passwordHash: string | null): Promise<void> {
    await this.db.execute('UPDATE users SET password_hash = ? WHERE user_id = ?', [passwordHash, userId]);
  }

  /** Makes a guest account a full one with this password; false when the user is not (or no longer) a guest. */
  async upgradeGuest(userId: string, passwordHash: string): Promise<boolean> {
    const { changes } = await this.db.execute('UPDATE users SET password_hash = ?, is_guest = 0 WHERE user_id = ? AND is_guest = 1', [
      passwordHash,
      userId,
    ]);
    this.onFlagsChanged(userId);
    return changes === 1;
  }

  async setDeactivated(userId: string, deactivated: boolean): Promise<void> {
    await this.db.execute('UPDATE users SET deactivated = ? WHERE user_id = ?', [deactivated, userId]);
    this.onFlagsChanged(userId);
  }

  /** Records that the user asked for their data to be erased (deactivation with `erase`). */
  async setErased(userId: string): Promise<void> {
    await this.db.execute('UPDATE users SET erased = 1 WHERE user_id = ?', [userId]);
    this.erasure.invalidate((key) => key === userId);
  }

  /** Which of `userIds` asked to be erased; users of other servers never are here. */
  async erasedAmong(userIds: Iterable<string>): Promise<Set<string>> {
    const flags = await this.erasure.getMany([...userIds], async (missing) => {
      const rows = await queryInChunks(missing, (chunk) =>
        this.db.query<{ user_id: string }>(`SELECT user_id FROM users WHERE erased = 1 AND user_id IN (${placeholders(chunk.length)})`, chunk),
      );
      const erased = new Set(rows.map((r) => r.user_id));
      return new Map(missing.map((userId) => [userId, erased.has(userId)]));
    });
    return new Set([...flags].filter(([, erased]) => erased).map(([userId]) => userId));
  }

  async setAdmin(userId: string, isAdmin: boolean): Promise<void> {
    await this.db.execute('UPDATE users SET is_admin = ? WHERE user_id = ?', [isAdmin, userId]);
    this.onFlagsChanged(userId);
  }

  async setLocked(userId: string, locked: boolean): Promise<void> {
    await this.db.execute('UPDATE users SET locked = ? WHERE user_id = ?', [locked, userId]);
    this.onFlagsChanged(userId);
  }

  async setSuspended(userId: string, suspended: boolean): Promise<void> {
    await this.db.execute('UPDATE users SET suspended = ? WHERE user_id = ?', [suspended, userId]);
  }

  /** Every suspended user; few enough to hold in memory. */
  async listSuspended(): Promise<string[]> {
    const rows = await this.db.query<{ user_id: string }>('SELECT user_id FROM users WHERE suspended = 1');
    return rows.map((r) => r.user_id);
  }

  /** The next number for a generated localpart (Synapse gives users without a chosen name numeric IDs). */
  async nextGeneratedLocalpart(): Promise<number> {
    const row = await this.db.queryOne<{ value: number }>(
      "UPDATE account_counters SET value = value + 1 WHERE name = 'generated_localpart' RETURNING value",
    );
    if (!row) throw new Error("account_counters has no 'generated_localpart' row; migration 0001 did not run completely");
    return Number(row.value);
  }
}

function toUser(row: UserRow): UserRecord {
  return {
    userId: row.user_id,
    passwordHash: row.password_hash,
    isAdmin: Number(row.is_admin) === 1,
    isGuest: Number(row.is_guest) === 1,
    deactivated: Number(row.deactivated) === 1,
    locked: Number(row.locked) === 1,
    suspended: Number(row.suspended) === 1,
    createdTs: Number(row.created_ts),
  };
}
