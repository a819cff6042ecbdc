// Pushers (client-server-api/modules/push.md, "Pushers"): where a user's
// devices want notifications sent. One per (user, app_id, pushkey).
import type { JsonObject } from '../../core/types.js';
import type { Database } from '../database.js';
import { placeholders, queryInChunks } from '../rooms/sql.js';

export interface Pusher {
  id: number;
  userId: string;
  /** The device whose session created the pusher, when known. */
  deviceId: string | null;
  kind: string;
  appId: string;
  pushkey: string;
  /** When the pusher was last set, in milliseconds. */
  pushkeyTs: number;
  appDisplayName: string;
  deviceDisplayName: string;
  profileTag: string | null;
  lang: string;
  data: JsonObject;
}

export type NewPusher = Omit<Pusher, 'id'>;

interface PusherRow {
  id: number;
  user_id: string;
  device_id: string | null;
  kind: string;
  app_id: string;
  pushkey: string;
  pushkey_ts: number;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  data: string;
}

const COLUMNS =
  'id, user_id, device_id, kind, app_id, pushkey, pushkey_ts, app_display_name, device_display_name, profile_tag, lang, data';

function fromRow(row: PusherRow): Pusher {
  return {
    id: Number(row.id),
    userId: row.user_id,
    deviceId: row.device_id,
    kind: row.kind,
    appId: row.app_id,
    pushkey: row.pushkey,
    pushkeyTs: Number(row.pushkey_ts),
    appDisplayName: row.app_display_name,
    deviceDisplayName: row.device_display_name,
    profileTag: row.profile_tag,
    lang: row.lang,
    data: JSON.parse(row.data) as JsonObject,
  };
}

export class PusherStore {
  constructor(private readonly db: Database) {}

  async forUser(userId: string): Promise<Pusher[]> {
    const rows = await this.db.query<PusherRow>(`SELECT ${COLUMNS} FROM pushers WHERE user_id = ? ORDER BY id`, [userId]);
    return rows.map(fromRow);
  }

  /** The pushers of several users, for fanning out one event. */
  async forUsers(userIds: readonly string[]): Promise<Pusher[]> {
    const rows = await queryInChunks(userIds, (chunk) =>
      this.db.query<PusherRow>(`SELECT ${COLUMNS} FROM pushers WHERE user_id IN (${placeholders(chunk.length)})`, chunk),
    );
    return rows.map(fromRow).sort((a, b) => a.id - b.id);
  }

  /**
   * Creates or replaces the user's pusher for (app_id, pushkey). Unless
   * `append`, the same (app_id, pushkey) is taken away from every other user
   * (pusher.yaml, `append`): a device re-registering under a new account
   * must not keep receiving the old account's notifications.
   */
  async set(pusher: NewPusher, append: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!append) {
        await tx.execute('DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id <> ?', [
          pusher.appId,
          pusher.pushkey,
          pusher.userId,
        ]);
      }
      await tx.execute(
        `INSERT INTO pushers (user_id, device_id, kind, app_id, pushkey, pushkey_ts, app_display_name, device_display_name, profile_tag, lang, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET
           device_id = excluded.device_id, kind = excluded.kind, pushkey_ts = excluded.pushkey_ts,
           app_display_name = excluded.app_display_name, device_display_name = excluded.device_display_name,
           profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data`,
        [
          pusher.userId,
          pusher.deviceId,
          pusher.kind,
          pusher.appId,
          pusher.pushkey,
          pusher.pushkeyTs,
          pusher.appDisplayName,
          pusher.deviceDisplayName,
          pusher.profileTag,
          pusher.lang,
          JSON.stringify(pusher.data),
        ],
      );
    });
  }

  /** Deletes the user's pusher for (app_id, pushkey); false when there was none. */
  async remove(userId: string, appId: string, pushkey: string): Promise<boolean> {
    const { changes } = await this.db.execute('DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?', [
      userId,
      appId,
      pushkey,
    ]);
    return changes > 0;
  }

  /** Deletes the pushers created from these devices (they were logged out or deleted). */
  async removeForDevices(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const { changes } = await this.db.execute(
      `DELETE FROM pushers WHERE user_id = ? AND device_id IN (${placeholders(deviceIds.length)})`,
      [userId, ...deviceIds],
    );
    return changes;
  }

  async removeAllForUser(userId: string): Promise<number> {
    const { changes } = await this.db.execute('DELETE FROM pushers WHERE user_id = ?', [userId]);
    return changes;
  }
}
