// A user's devices (client sessions) with their last-seen information.
import type { Database, SqlValue } from '../database.js';

export interface DeviceRecord {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenUserAgent: string | null;
  lastSeenTs: number | null;
  createdTs: number;
}

interface DeviceRow {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ip: string | null;
  last_seen_user_agent: string | null;
  last_seen_ts: number | null;
  created_ts: number;
}

const COLUMNS = 'user_id, device_id, display_name, last_seen_ip, last_seen_user_agent, last_seen_ts, created_ts';

export class DeviceStore {
  constructor(private readonly db: Database) {}

  /** Creates the device unless it exists; true when it was created. An existing device keeps its name. */
  async createIfAbsent(userId: string, deviceId: string, displayName: string | null, createdTs: number): Promise<boolean> {
    const { changes } = await this.db.execute(
      `INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, device_id) DO NOTHING`,
      [userId, deviceId, displayName, createdTs],
    );
    return changes === 1;
  }

  async get(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const row = await this.db.queryOne<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE user_id = ? AND device_id = ?`, [
      userId,
      deviceId,
    ]);
    return row && toDevice(row);
  }

  async list(userId: string): Promise<DeviceRecord[]> {
    const rows = await this.db.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE user_id = ? ORDER BY device_id`, [userId]);
    return rows.map(toDevice);
  }

  /** False when there is no such device. */
  async setDisplayName(userId: string, deviceId: string, displayName: string | null): Promise<boolean> {
    const { changes } = await this.db.execute('UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?', [
      displayName,
      userId,
      deviceId,
    ]);
    return changes === 1;
  }

  async updateLastSeen(userId: string, deviceId: string, ip: string, userAgent: string | null, ts: number): Promise<void> {
    await this.db.execute(
      'UPDATE devices SET last_seen_ip = ?, last_seen_user_agent = ?, last_seen_ts = ? WHERE user_id = ? AND device_id = ?',
      [ip, userAgent, ts, userId, deviceId],
    );
  }

  async delete(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const { changes } = await this.db.execute(
      `DELETE FROM devices WHERE user_id = ? AND device_id IN (${placeholders(deviceIds.length)})`,
      [userId, ...deviceIds],
    );
    return changes;
  }

  /** Deletes every device of the user except `keepDeviceId` (when given). */
  async deleteAll(userId: string, keepDeviceId?: string): Promise<number> {
    const params: SqlValue[] = [userId];
    let sql = 'DELETE FROM devices WHERE user_id = ?';
    if (keepDeviceId !== undefined) {
      sql += ' AND device_id <> ?';
      params.push(keepDeviceId);
    }
    return (await this.db.execute(sql, params)).changes;
  }
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    displayName: row.display_name,
    lastSeenIp: row.last_seen_ip,
    lastSeenUserAgent: row.last_seen_user_agent,
    lastSeenTs: row.last_seen_ts === null ? null : Number(row.last_seen_ts),
    createdTs: Number(row.created_ts),
  };
}
