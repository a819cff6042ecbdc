// MSC3814 dehydrated devices: which of a user's devices is the dehydrated one,
// and the opaque (client-encrypted) data to rehydrate it with.
import type { JsonObject } from '../../core/types.js';
import type { Database, Queryable } from '../database.js';

export interface DehydratedDevice {
  deviceId: string;
  deviceData: JsonObject;
}

export class DehydratedDeviceStore {
  constructor(private readonly db: Database) {}

  async get(userId: string): Promise<DehydratedDevice | undefined> {
    const row = await this.db.queryOne<{ device_id: string; device_data: string }>(
      'SELECT device_id, device_data FROM e2e_dehydrated_devices WHERE user_id = ?',
      [userId],
    );
    return row && { deviceId: row.device_id, deviceData: JSON.parse(row.device_data) as JsonObject };
  }

  async set(q: Queryable, userId: string, device: DehydratedDevice): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_dehydrated_devices (user_id, device_id, device_data) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET device_id = excluded.device_id, device_data = excluded.device_data`,
      [userId, device.deviceId, JSON.stringify(device.deviceData)],
    );
  }

  /** Forgets the dehydrated device if it is one of `deviceIds`. */
  async deleteIfOneOf(q: Queryable, userId: string, deviceIds: readonly string[]): Promise<void> {
    const current = await q.queryOne<{ device_id: string }>('SELECT device_id FROM e2e_dehydrated_devices WHERE user_id = ?', [userId]);
    if (current && deviceIds.includes(current.device_id)) await q.execute('DELETE FROM e2e_dehydrated_devices WHERE user_id = ?', [userId]);
  }
}
