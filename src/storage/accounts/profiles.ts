// Local users' global profiles (displayname, avatar_url), and their custom
// fields (m.tz and namespaced keys), each stored as JSON text.
import type { JsonValue } from '../../core/types.js';
import type { Database } from '../database.js';

export interface Profile {
  displayname: string | null;
  avatarUrl: string | null;
}

export class ProfileStore {
  constructor(private readonly db: Database) {}

  async create(userId: string, profile: Profile): Promise<void> {
    await this.db.execute(
      'INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING',
      [userId, profile.displayname, profile.avatarUrl],
    );
  }

  async get(userId: string): Promise<Profile | undefined> {
    const row = await this.db.queryOne<{ displayname: string | null; avatar_url: string | null }>(
      'SELECT displayname, avatar_url FROM profiles WHERE user_id = ?',
      [userId],
    );
    return row && { displayname: row.displayname, avatarUrl: row.avatar_url };
  }

  async setDisplayname(userId: string, displayname: string | null): Promise<void> {
    await this.upsert(userId);
    await this.db.execute('UPDATE profiles SET displayname = ? WHERE user_id = ?', [displayname, userId]);
  }

  async setAvatarUrl(userId: string, avatarUrl: string | null): Promise<void> {
    await this.upsert(userId);
    await this.db.execute('UPDATE profiles SET avatar_url = ? WHERE user_id = ?', [avatarUrl, userId]);
  }

  /** The user's custom fields, by name in code-unit order (displayname and avatar_url are not among them). */
  async fields(userId: string): Promise<Map<string, JsonValue>> {
    const rows = await this.db.query<{ field_name: string; value: string }>(
      'SELECT field_name, value FROM profile_fields WHERE user_id = ? ORDER BY field_name',
      [userId],
    );
    return new Map(rows.map((r) => [r.field_name, JSON.parse(r.value) as JsonValue]));
  }

  async field(userId: string, name: string): Promise<JsonValue | undefined> {
    const row = await this.db.queryOne<{ value: string }>('SELECT value FROM profile_fields WHERE user_id = ? AND field_name = ?', [userId, name]);
    return row && (JSON.parse(row.value) as JsonValue);
  }

  async setField(userId: string, name: string, value: JsonValue): Promise<void> {
    await this.db.execute(
      `INSERT INTO profile_fields (user_id, field_name, value) VALUES (?, ?, ?)
       ON CONFLICT (user_id, field_name) DO UPDATE SET value = excluded.value`,
      [userId, name, JSON.stringify(value)],
    );
  }

  async deleteField(userId: string, name: string): Promise<void> {
    await this.db.execute('DELETE FROM profile_fields WHERE user_id = ? AND field_name = ?', [userId, name]);
  }

  async deleteAllFields(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM profile_fields WHERE user_id = ?', [userId]);
  }

  /**
   * Makes concurrent changes to one user's profile wait for each other until
   * the transaction ends (a row lock in PostgreSQL; SQLite has one writer),
   * so a size check and the write it allows cannot interleave with another.
   */
  async lockForUpdate(userId: string): Promise<void> {
    await this.upsert(userId);
    await this.db.execute('UPDATE profiles SET displayname = displayname WHERE user_id = ?', [userId]);
  }

  private async upsert(userId: string): Promise<void> {
    await this.create(userId, { displayname: null, avatarUrl: null });
  }
}
