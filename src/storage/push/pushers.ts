// Pushers (client-server-api/modules/push.md, "Pushers"): where a user's
// devices want notifications sent. One per (user, app_id, pushkey). Every
// notifying event looks up its recipients' pushers, so each user's list is
// cached (most are empty); every change invalidates the users it touches.
import type { JsonObject } from '../../core/types.js';
import { CommitConsistentCache } from '../commit-consistent-cache.js';
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

/** Users whose pusher lists stay cached; past it the cache starts over. */
const CACHED_USERS = 50_000;

export class PusherStore {
  private readonly byUser: CommitConsistentCache<readonly Pusher[]>;

  constructor(private readonly db: Database) {
    this.byUser = new CommitConsistentCache(db, CACHED_USERS);
  }

  async forUser(userId: string): Promise<Pusher[]> {
    return this.forUsers([userId]);
  }

  /** The pushers of several users (in creation order), for fanning out one event. */
  async forUsers(userIds: readonly string[]): Promise<Pusher[]> {
    const lists = await this.byUser.getMany(userIds, async (missing) => {
      const rows = await queryInChunks(missing, (chunk) =>
        this.db.query<PusherRow>(`SELECT ${COLUMNS} FROM pushers WHERE user_id IN (${placeholders(chunk.length)})`, chunk),
      );
      const byUser = new Map<string, Pusher[]>(missing.map((userId) => [userId, []]));
      for (const row of rows) byUser.get(row.user_id)?.push(Object.freeze(fromRow(row)));
      return byUser;
    });
    return [...lists.values()].flat().sort((a, b) => a.id - b.id);
  }

  /** After a write: the lists of `userId` and of anyone holding (app_id, pushkey) go. */
  private changed(userId: string, pushkey?: { appId: string; pushkey: string }): void {
    this.byUser.invalidate(
      (key, pushers) => key === userId || (pushkey !== undefined && pushers.some((p) => p.appId === pushkey.appId && p.pushkey === pushkey.pushkey)),
    );
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
      this.changed(pusher.userId, pusher);
    });
  }

  /** Deletes the user's pusher for (app_id, pushkey); false when there was none. */
  async remove(userId: string, appId: string, pushkey: string): Promise<boolean> {
    const { changes } = await this.db.execute('DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?', [
      userId,
      appId,
      pushkey,
    ]);
    this.changed(userId);
    return changes > 0;
  }

  /** Deletes the pushers created from these devices (they were logged out or deleted). */
  async removeForDevices(userId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const { changes } = await this.db.execute(
      `DELETE FROM pushers WHERE user_id = ? AND device_id IN (${placeholders(deviceIds.length)})`,
      [userId, ...deviceIds],
    );
    this.changed(userId);
    return changes;
  }

  async removeAllForUser(userId: string): Promise<number> {
    const { changes } = await this.db.execute('DELETE FROM pushers WHERE user_id = ?', [userId]);
    this.changed(userId);
    return changes;
  }
}
