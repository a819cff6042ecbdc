// Identity servers each user bound a third-party identifier on through this
// server (migration 60), to unbind it there later.
import type { Database } from '../database.js';

export interface ThreepidBinding {
  medium: string;
  address: string;
  idServer: string;
}

export class ThreepidBindingStore {
  constructor(private readonly db: Database) {}

  async add(userId: string, binding: ThreepidBinding): Promise<void> {
    await this.db.execute(
      `INSERT INTO user_threepid_id_server (user_id, medium, address, id_server) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, medium, address, id_server) DO NOTHING`,
      [userId, binding.medium, binding.address, binding.idServer],
    );
  }

  async remove(userId: string, binding: ThreepidBinding): Promise<void> {
    await this.db.execute('DELETE FROM user_threepid_id_server WHERE user_id = ? AND medium = ? AND address = ? AND id_server = ?', [
      userId,
      binding.medium,
      binding.address,
      binding.idServer,
    ]);
  }

  /** The identity servers `medium`/`address` was bound on for the user. */
  async idServersFor(userId: string, medium: string, address: string): Promise<string[]> {
    const rows = await this.db.query<{ id_server: string }>(
      'SELECT id_server FROM user_threepid_id_server WHERE user_id = ? AND medium = ? AND address = ? ORDER BY id_server',
      [userId, medium, address],
    );
    return rows.map((r) => r.id_server);
  }

  /** Every binding of the user, for deactivation. */
  async forUser(userId: string): Promise<ThreepidBinding[]> {
    const rows = await this.db.query<{ medium: string; address: string; id_server: string }>(
      'SELECT medium, address, id_server FROM user_threepid_id_server WHERE user_id = ? ORDER BY medium, address, id_server',
      [userId],
    );
    return rows.map((r) => ({ medium: r.medium, address: r.address, idServer: r.id_server }));
  }
}
