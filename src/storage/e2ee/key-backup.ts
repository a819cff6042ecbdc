// Server-side key backups (client-server-api/modules/end_to_end_encryption.md,
// "Server-side key backups"): numbered versions per user, and per version the
// backed-up session keys. `etag` moves whenever a version's keys change.
import type { JsonObject } from '../../core/types.js';
import type { Database, Queryable } from '../database.js';

export interface BackupVersion {
  version: number;
  algorithm: string;
  authData: JsonObject;
  etag: number;
}

export interface RoomKey {
  firstMessageIndex: number;
  forwardedCount: number;
  isVerified: boolean;
  sessionData: JsonObject;
}

export interface StoredRoomKey extends RoomKey {
  roomId: string;
  sessionId: string;
}

interface VersionRow {
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
}

interface RoomKeyRow {
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: number;
  session_data: string;
}

const toVersion = (r: VersionRow): BackupVersion => ({
  version: Number(r.version),
  algorithm: r.algorithm,
  authData: JSON.parse(r.auth_data) as JsonObject,
  etag: Number(r.etag),
});

const toRoomKey = (r: RoomKeyRow): StoredRoomKey => ({
  roomId: r.room_id,
  sessionId: r.session_id,
  firstMessageIndex: Number(r.first_message_index),
  forwardedCount: Number(r.forwarded_count),
  isVerified: Number(r.is_verified) === 1,
  sessionData: JSON.parse(r.session_data) as JsonObject,
});

export class KeyBackupStore {
  constructor(readonly db: Database) {}

  /** A new version, numbered one past every version the user ever had. */
  async createVersion(userId: string, algorithm: string, authData: JsonObject): Promise<number> {
    return this.db.transaction(async (tx) => {
      const row = await tx.queryOne<{ max: number | null }>('SELECT MAX(version) AS max FROM e2e_room_key_versions WHERE user_id = ?', [userId]);
      const version = Number(row?.max ?? 0) + 1;
      await tx.execute('INSERT INTO e2e_room_key_versions (user_id, version, algorithm, auth_data) VALUES (?, ?, ?, ?)', [
        userId,
        version,
        algorithm,
        JSON.stringify(authData),
      ]);
      return version;
    });
  }

  /** The given version, or the latest, unless deleted. */
  async getVersion(q: Queryable, userId: string, version?: number): Promise<BackupVersion | undefined> {
    const row =
      version === undefined
        ? await q.queryOne<VersionRow>(
            'SELECT version, algorithm, auth_data, etag FROM e2e_room_key_versions WHERE user_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1',
            [userId],
          )
        : await q.queryOne<VersionRow>(
            'SELECT version, algorithm, auth_data, etag FROM e2e_room_key_versions WHERE user_id = ? AND version = ? AND deleted = 0',
            [userId, version],
          );
    return row && toVersion(row);
  }

  async updateAuthData(userId: string, version: number, authData: JsonObject): Promise<boolean> {
    const { changes } = await this.db.execute('UPDATE e2e_room_key_versions SET auth_data = ? WHERE user_id = ? AND version = ? AND deleted = 0', [
      JSON.stringify(authData),
      userId,
      version,
    ]);
    return changes === 1;
  }

  /** Marks the version deleted (its number is never reused) and drops its keys. */
  async deleteVersion(userId: string, version: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.execute('UPDATE e2e_room_key_versions SET deleted = 1 WHERE user_id = ? AND version = ? AND deleted = 0', [
        userId,
        version,
      ]);
      await tx.execute('DELETE FROM e2e_room_keys WHERE user_id = ? AND version = ?', [userId, version]);
      return changes === 1;
    });
  }

  async bumpEtag(q: Queryable, userId: string, version: number): Promise<void> {
    await q.execute('UPDATE e2e_room_key_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?', [userId, version]);
  }

  async count(q: Queryable, userId: string, version: number): Promise<number> {
    const row = await q.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM e2e_room_keys WHERE user_id = ? AND version = ?', [userId, version]);
    return Number(row?.n ?? 0);
  }

  async getKey(q: Queryable, userId: string, version: number, roomId: string, sessionId: string): Promise<StoredRoomKey | undefined> {
    const row = await q.queryOne<RoomKeyRow>(
      `SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data FROM e2e_room_keys
       WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?`,
      [userId, version, roomId, sessionId],
    );
    return row && toRoomKey(row);
  }

  async putKey(q: Queryable, userId: string, version: number, roomId: string, sessionId: string, key: RoomKey): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_room_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index,
         forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data = excluded.session_data`,
      [userId, version, roomId, sessionId, key.firstMessageIndex, key.forwardedCount, key.isVerified ? 1 : 0, JSON.stringify(key.sessionData)],
    );
  }

  /** Keys of the version, optionally of one room or one session. */
  async listKeys(userId: string, version: number, roomId?: string, sessionId?: string): Promise<StoredRoomKey[]> {
    const { sql, params } = scope(userId, version, roomId, sessionId);
    const rows = await this.db.query<RoomKeyRow>(
      `SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data FROM e2e_room_keys WHERE ${sql}
       ORDER BY room_id, session_id`,
      params,
    );
    return rows.map(toRoomKey);
  }

  async deleteKeys(q: Queryable, userId: string, version: number, roomId?: string, sessionId?: string): Promise<number> {
    const { sql, params } = scope(userId, version, roomId, sessionId);
    return (await q.execute(`DELETE FROM e2e_room_keys WHERE ${sql}`, params)).changes;
  }
}

function scope(userId: string, version: number, roomId?: string, sessionId?: string): { sql: string; params: Array<string | number> } {
  let sql = 'user_id = ? AND version = ?';
  const params: Array<string | number> = [userId, version];
  if (roomId !== undefined) {
    sql += ' AND room_id = ?';
    params.push(roomId);
  }
  if (sessionId !== undefined) {
    sql += ' AND session_id = ?';
    params.push(sessionId);
  }
  return { sql, params };
}
