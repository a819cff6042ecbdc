// Uploaded sync filters (client-server-api/_index.md, "Filtering"). The JSON is
// kept as the client sent it, so GET returns exactly what was uploaded.
import type { JsonObject } from '../../core/types.js';
import type { Database } from '../database.js';

export class FilterStore {
  constructor(private readonly db: Database) {}

  /** Stores a filter and returns its new numeric ID. */
  async add(userId: string, filter: JsonObject): Promise<number> {
    const row = await this.db.queryOne<{ filter_id: number }>(
      'INSERT INTO user_filters (user_id, filter_json) VALUES (?, ?) RETURNING filter_id',
      [userId, JSON.stringify(filter)],
    );
    if (!row) throw new Error('INSERT … RETURNING returned no row for user_filters');
    return Number(row.filter_id);
  }

  /** The filter `filterId` if it belongs to `userId`. */
  async get(userId: string, filterId: number): Promise<JsonObject | undefined> {
    const row = await this.db.queryOne<{ filter_json: string }>('SELECT filter_json FROM user_filters WHERE filter_id = ? AND user_id = ?', [
      filterId,
      userId,
    ]);
    return row && (JSON.parse(row.filter_json) as JsonObject);
  }
}
