// The cache of other servers' users' device lists (migration 22): which
// remote users this server tracks, how far their list is known, and their
// devices with keys. See services' RemoteDeviceLists for when it is filled.
import type { JsonObject } from '../../core/types.js';
import type { Database, Queryable } from '../database.js';
import { insertRows, placeholders, queryInChunks } from '../rooms/sql.js';

export interface RemoteDevice {
  deviceId: string;
  displayName: string | null;
  /** The device's identity keys; null when it has uploaded none. */
  keys: JsonObject | null;
}

export interface RemoteDeviceList {
  /** The remote server's stream_id of the last update applied. */
  streamId: string;
  /** The list must be fetched again before it is used. */
  stale: boolean;
}

export class RemoteDeviceStore {
  constructor(private readonly db: Database) {}

  async list(userId: string): Promise<RemoteDeviceList | undefined> {
    const row = await this.db.queryOne<{ stream_id: string; stale: number }>('SELECT stream_id, stale FROM e2e_remote_device_lists WHERE user_id = ?', [userId]);
    return row && { streamId: row.stream_id, stale: Number(row.stale) === 1 };
  }

  /** The cached devices of a tracked user (only `deviceIds` when given), by device ID. */
  async devices(userId: string, deviceIds?: readonly string[]): Promise<RemoteDevice[]> {
    if (deviceIds?.length === 0) return [];
    const filter = deviceIds ? ` AND device_id IN (${placeholders(deviceIds.length)})` : '';
    const rows = await this.db.query<{ device_id: string; display_name: string | null; key_json: string | null }>(
      `SELECT device_id, display_name, key_json FROM e2e_remote_devices WHERE user_id = ?${filter} ORDER BY device_id`,
      [userId, ...(deviceIds ?? [])],
    );
    return rows.map((r) => ({ deviceId: r.device_id, displayName: r.display_name, keys: r.key_json === null ? null : (JSON.parse(r.key_json) as JsonObject) }));
  }

  /**
   * Applies one m.device_list_update (inside the caller's transaction): the
   * device changes, or goes when `device` is undefined, and the list moves
   * to `streamId`.
   */
  async applyUpdate(q: Queryable, userId: string, streamId: string, deviceId: string, device: RemoteDevice | undefined, now: number): Promise<void> {
    if (device) await this.upsertDevices(q, userId, [device]);
    else await q.execute('DELETE FROM e2e_remote_devices WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
    await this.setCurrent(q, userId, streamId, now);
  }

  /** Replaces a user's whole cached list with a fresh copy (a resync), inside the caller's transaction. */
  async replace(q: Queryable, userId: string, streamId: string, devices: readonly RemoteDevice[], now: number): Promise<void> {
    await q.execute('DELETE FROM e2e_remote_devices WHERE user_id = ?', [userId]);
    await this.upsertDevices(q, userId, devices);
    await this.setCurrent(q, userId, streamId, now);
  }

  /** Marks a tracked user's list as needing a resync (tracking it from now on if it was not). */
  async markStale(userId: string, now: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO e2e_remote_device_lists (user_id, stream_id, stale, updated_ts) VALUES (?, '', 1, ?)
       ON CONFLICT (user_id) DO UPDATE SET stale = 1, updated_ts = excluded.updated_ts`,
      [userId, now],
    );
  }

  /** Stops tracking a user: their cached devices and cross-signing keys go (inside the caller's transaction). */
  async forget(q: Queryable, userId: string): Promise<void> {
    await q.execute('DELETE FROM e2e_remote_devices WHERE user_id = ?', [userId]);
    await q.execute('DELETE FROM e2e_remote_device_lists WHERE user_id = ?', [userId]);
    await q.execute('DELETE FROM e2e_cross_signing_keys WHERE user_id = ?', [userId]);
  }

  /**
   * Those of `userIds` who are joined to a room a user of `serverName` is
   * joined to: the remote users whose device lists this server must follow.
   */
  async sharingRoomsWithLocalUsers(userIds: readonly string[], serverName: string): Promise<Set<string>> {
    const rows = await queryInChunks([...userIds], (chunk) =>
      this.db.query<{ user_id: string }>(
        `SELECT DISTINCT theirs.user_id FROM room_memberships theirs
         JOIN room_memberships mine ON mine.room_id = theirs.room_id
         WHERE theirs.user_id IN (${placeholders(chunk.length)}) AND theirs.membership = 'join'
           AND mine.membership = 'join' AND mine.user_id LIKE ?`,
        [...chunk, `%:${serverName}`],
      ),
    );
    return new Set(rows.map((r) => r.user_id));
  }

  private async upsertDevices(q: Queryable, userId: string, devices: readonly RemoteDevice[]): Promise<void> {
    await insertRows(
      q,
      'e2e_remote_devices',
      ['user_id', 'device_id', 'display_name', 'key_json'],
      devices.map((d) => [userId, d.deviceId, d.displayName, d.keys === null ? null : JSON.stringify(d.keys)]),
      'ON CONFLICT (user_id, device_id) DO UPDATE SET display_name = excluded.display_name, key_json = excluded.key_json',
    );
  }

  /** The list is known up to `streamId`, and no longer stale. */
  private async setCurrent(q: Queryable, userId: string, streamId: string, now: number): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_remote_device_lists (user_id, stream_id, stale, updated_ts) VALUES (?, ?, 0, ?)
       ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id, stale = 0, updated_ts = excluded.updated_ts`,
      [userId, streamId, now],
    );
  }
}
