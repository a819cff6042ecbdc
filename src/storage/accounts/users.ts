// Local user accounts: password hash, admin and guest flags, deactivation,
// the moderation flags (locked, suspended), and erasure.
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database } from '../database.js';
import { likeContaining, placeholders, queryInChunks } from '../rooms/sql.js';

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

  /**
   * One page of users for Synapse's admin list (GET /_synapse/admin/v2/users)
   * and how many match in all. Each row carries its profile and the latest
   * time any of its devices was seen.
   */
  async listForAdmin(query: UserListQuery): Promise<{ users: UserListEntry[]; total: number }> {
    const { where, params } = userListFilter(query);
    const totalRow = await this.db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM users u LEFT JOIN profiles p ON p.user_id = u.user_id ${where}`, params);
    const column = USER_ORDER_COLUMNS[query.orderBy];
    const dir = query.direction === 'b' ? 'DESC' : 'ASC';
    // NULLs first when ascending on both engines (they disagree by default), then the ID breaks ties.
    const rows = await this.db.query<UserListRow>(
      `${USER_LIST_SELECT} ${where}
       ORDER BY CASE WHEN ${column} IS NULL THEN 0 ELSE 1 END ${dir}, ${column} ${dir}, u.user_id ${dir}
       LIMIT ? OFFSET ?`,
      [...params, query.limit, query.from],
    );
    return { users: rows.map(toListEntry), total: Number(totalRow?.n ?? 0) };
  }

  /** Accounts that can sign in or could again: every user not deactivated, guests included. */
  async countActive(): Promise<number> {
    const row = await this.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE deactivated = 0');
    return Number(row?.n ?? 0);
  }

  /** One user as the admin list shows it; undefined when there is no such account. */
  async getForAdmin(userId: string): Promise<UserListEntry | undefined> {
    const row = await this.db.queryOne<UserListRow>(`${USER_LIST_SELECT} WHERE u.user_id = ?`, [userId]);
    return row && toListEntry(row);
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

/** What an admin may filter and order the user list by (Synapse's query parameters). */
export interface UserListQuery {
  from: number;
  limit: number;
  /** Substring of the user ID. */
  userId?: string;
  /** Substring of the user ID or the display name. */
  name?: string;
  guests: boolean;
  deactivated: boolean;
  locked: boolean;
  admins?: boolean;
  orderBy: UserOrder;
  direction: 'f' | 'b';
}

/** Synapse's order_by values that Axon has columns for. */
export const USER_ORDER_COLUMNS = {
  name: 'u.user_id',
  is_guest: 'u.is_guest',
  admin: 'u.is_admin',
  deactivated: 'u.deactivated',
  locked: 'u.locked',
  displayname: 'p.displayname',
  avatar_url: 'p.avatar_url',
  creation_ts: 'u.created_ts',
  last_seen_ts: 'last_seen_ts',
} as const;

export type UserOrder = keyof typeof USER_ORDER_COLUMNS;

export interface UserListEntry {
  userId: string;
  isAdmin: boolean;
  isGuest: boolean;
  deactivated: boolean;
  erased: boolean;
  locked: boolean;
  suspended: boolean;
  createdTs: number;
  displayname: string | null;
  avatarUrl: string | null;
  lastSeenTs: number | null;
}

interface UserListRow {
  user_id: string;
  is_admin: number;
  is_guest: number;
  deactivated: number;
  erased: number;
  locked: number;
  suspended: number;
  created_ts: number;
  displayname: string | null;
  avatar_url: string | null;
  last_seen_ts: number | null;
}

const USER_LIST_SELECT = `SELECT u.user_id, u.is_admin, u.is_guest, u.deactivated, u.erased, u.locked, u.suspended, u.created_ts,
    p.displayname, p.avatar_url,
    (SELECT MAX(d.last_seen_ts) FROM devices d WHERE d.user_id = u.user_id) AS last_seen_ts
  FROM users u LEFT JOIN profiles p ON p.user_id = u.user_id`;

function userListFilter(query: UserListQuery): { where: string; params: (string | boolean)[] } {
  const clauses: string[] = [];
  const params: (string | boolean)[] = [];
  if (query.userId !== undefined) {
    clauses.push("LOWER(u.user_id) LIKE ? ESCAPE '\\'");
    params.push(likeContaining(query.userId));
  }
  if (query.name !== undefined) {
    clauses.push("(LOWER(u.user_id) LIKE ? ESCAPE '\\' OR LOWER(p.displayname) LIKE ? ESCAPE '\\')");
    params.push(likeContaining(query.name), likeContaining(query.name));
  }
  if (!query.guests) clauses.push('u.is_guest = 0');
  if (!query.deactivated) clauses.push('u.deactivated = 0');
  if (!query.locked) clauses.push('u.locked = 0');
  if (query.admins !== undefined) {
    clauses.push('u.is_admin = ?');
    params.push(query.admins);
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

function toListEntry(row: UserListRow): UserListEntry {
  return {
    userId: row.user_id,
    isAdmin: Number(row.is_admin) === 1,
    isGuest: Number(row.is_guest) === 1,
    deactivated: Number(row.deactivated) === 1,
    erased: Number(row.erased) === 1,
    locked: Number(row.locked) === 1,
    suspended: Number(row.suspended) === 1,
    createdTs: Number(row.created_ts),
    displayname: row.displayname,
    avatarUrl: row.avatar_url,
    lastSeenTs: row.last_seen_ts === null ? null : Number(row.last_seen_ts),
  };
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
