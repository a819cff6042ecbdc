// Local users' global profiles (displayname, avatar_url).
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

  private async upsert(userId: string): Promise<void> {
    await this.create(userId, { displayname: null, avatarUrl: null });
  }
}
