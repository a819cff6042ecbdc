// The user directory (client-server-api/_index.md, "User directory"): who a
// search can find, with their display name and avatar, and which rooms count
// as public for deciding who may see whom.
import { parseUserId } from '../core/identifiers.js';
import type { Database, SqlValue } from './database.js';
import { chunks, chunkSizeFor, placeholders } from './rooms/sql.js';
import { searchWords } from './search.js';

export interface DirectoryUser {
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
}

export interface DirectorySearch {
  searcher: string;
  /** Lower-cased words; each must prefix a word of the user's localpart or display name. */
  words: readonly string[];
  /**
   * false: only users who share a joined room with the searcher or are in a
   * public room. Searchers find themselves only through a public room (as
   * Synapse: sharing a private room means sharing it with someone else).
   */
  searchAllUsers: boolean;
  /** Rank users of this server first (Synapse's prefer_local_users). */
  preferLocalServer?: string;
  limit: number;
}

/** ' alice smith ' for @alice:example.org named "Alice Smith": word prefixes match '% ali%'. */
function wordsOf(userId: string, displayName: string | null): string {
  const localpart = parseUserId(userId)?.localpart ?? '';
  const words = new Set([...searchWords(localpart), ...searchWords(displayName ?? '')]);
  return ` ${[...words].join(' ')} `;
}

export class UserDirectoryStore {
  constructor(private readonly db: Database) {}

  async upsertUser(user: DirectoryUser): Promise<void> {
    await this.db.execute(
      `INSERT INTO user_directory (user_id, display_name, avatar_url, search_words) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, avatar_url = excluded.avatar_url,
         search_words = excluded.search_words`,
      [user.userId, user.displayName, user.avatarUrl, wordsOf(user.userId, user.displayName)],
    );
  }

  async removeUser(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM user_directory WHERE user_id = ?', [userId]);
  }

  /**
   * Removes those of `userIds` who share no joined room with a user of
   * `serverName` any more: what this server knew of them has gone stale.
   */
  async removeUsersSharingNoRoomWith(userIds: readonly string[], serverName: string): Promise<void> {
    const suffix = `:${serverName}`;
    // Two parameters besides the IDs: the server-name suffix and its length.
    for (const chunk of chunks(userIds, chunkSizeFor(1) - 2)) {
      await this.db.execute(
        `DELETE FROM user_directory WHERE user_id IN (${placeholders(chunk.length)}) AND NOT EXISTS (
           SELECT 1 FROM room_memberships m1 JOIN room_memberships m2 ON m2.room_id = m1.room_id
           WHERE m1.user_id = user_directory.user_id AND m1.membership = 'join' AND m2.membership = 'join'
             AND substr(m2.user_id, length(m2.user_id) - ? + 1) = ?)`,
        [...chunk, suffix.length, suffix],
      );
    }
  }


  async getUser(userId: string): Promise<DirectoryUser | undefined> {
    const row = await this.db.queryOne<{ user_id: string; display_name: string | null; avatar_url: string | null }>(
      'SELECT user_id, display_name, avatar_url FROM user_directory WHERE user_id = ?',
      [userId],
    );
    return row && { userId: row.user_id, displayName: row.display_name, avatarUrl: row.avatar_url };
  }

  /** Marks a room as public (its members are visible to every searcher) or not. */
  async setRoomPublic(roomId: string, isPublic: boolean): Promise<void> {
    if (isPublic) await this.db.execute('INSERT INTO user_directory_public_rooms (room_id) VALUES (?) ON CONFLICT (room_id) DO NOTHING', [roomId]);
    else await this.db.execute('DELETE FROM user_directory_public_rooms WHERE room_id = ?', [roomId]);
  }

  /** Matching users, at most `limit` (ask for one more to learn whether the list was cut). */
  async search(query: DirectorySearch): Promise<DirectoryUser[]> {
    if (query.words.length === 0) return [];
    const conditions = query.words.map(() => 'd.search_words LIKE ?');
    const params: SqlValue[] = query.words.map((w) => `% ${w}%`);
    if (!query.searchAllUsers) {
      conditions.push(`(
        EXISTS (SELECT 1 FROM room_memberships m JOIN user_directory_public_rooms p ON p.room_id = m.room_id
                WHERE m.user_id = d.user_id AND m.membership = 'join')
        OR EXISTS (SELECT 1 FROM room_memberships m1 JOIN room_memberships m2 ON m2.room_id = m1.room_id
                   WHERE m1.user_id = d.user_id AND m1.membership = 'join' AND m2.user_id = ? AND m2.membership = 'join'
                     AND m2.user_id <> m1.user_id))`);
      params.push(query.searcher);
    }
    const order: string[] = [];
    if (query.preferLocalServer !== undefined) {
      order.push('CASE WHEN d.user_id LIKE ? THEN 0 ELSE 1 END');
      params.push(`%:${query.preferLocalServer}`);
    }
    order.push('CASE WHEN d.display_name IS NULL THEN 1 ELSE 0 END', 'd.display_name', 'd.user_id');
    params.push(query.limit);
    const rows = await this.db.query<{ user_id: string; display_name: string | null; avatar_url: string | null }>(
      `SELECT d.user_id, d.display_name, d.avatar_url FROM user_directory d
       WHERE ${conditions.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ?`,
      params,
    );
    return rows.map((r) => ({ userId: r.user_id, displayName: r.display_name, avatarUrl: r.avatar_url }));
  }
}
