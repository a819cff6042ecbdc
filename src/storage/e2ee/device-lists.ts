// The device_lists stream (client-server-api/modules/end_to_end_encryption.md,
// "Tracking the device list for a user"). Two kinds of rows share one stream:
// - key changes of a user, which concern whoever shares a room with them when
//   /sync reads them;
// - viewer rows, which concern one user only: someone started or stopped
//   sharing a room with them, or they signed someone's master key.
import type { Database, Queryable } from '../database.js';
import { insertRows } from '../rooms/sql.js';
import { currentPosition, reservePositions } from './counters.js';

export type ViewerChangeKind = 'changed' | 'left';

export interface ViewerChange {
  viewerUserId: string;
  userId: string;
  kind: ViewerChangeKind;
}

export class DeviceListStore {
  constructor(private readonly db: Database) {}

  currentPosition(): Promise<number> {
    return currentPosition(this.db, 'device_lists_stream');
  }

  /** Records that the users' devices or cross-signing keys changed; returns the new position. */
  async recordKeyChanges(q: Queryable, userIds: readonly string[]): Promise<number> {
    const position = await reservePositions(q, 'device_lists_stream');
    await insertRows(q, 'e2e_device_list_changes', ['stream_id', 'user_id'], [...new Set(userIds)].map((u) => [position, u]));
    return position;
  }

  async recordViewerChanges(q: Queryable, changes: readonly ViewerChange[]): Promise<number> {
    const position = await reservePositions(q, 'device_lists_stream');
    await insertRows(
      q,
      'e2e_device_list_viewer_changes',
      ['stream_id', 'viewer_user_id', 'user_id', 'kind'],
      changes.map((c) => [position, c.viewerUserId, c.userId, c.kind]),
    );
    return position;
  }

  /**
   * Users whose keys changed in (from, to] and who are `viewer` or share a
   * joined room with `viewer` now.
   */
  async keyChangesVisibleTo(viewer: string, fromExclusive: number, toInclusive: number): Promise<string[]> {
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT DISTINCT c.user_id FROM e2e_device_list_changes c
       WHERE c.stream_id > ? AND c.stream_id <= ? AND (c.user_id = ? OR EXISTS (
         SELECT 1 FROM room_memberships mine JOIN room_memberships theirs ON theirs.room_id = mine.room_id
         WHERE mine.user_id = ? AND mine.membership = 'join' AND theirs.user_id = c.user_id AND theirs.membership = 'join'
       )) ORDER BY c.user_id`,
      [fromExclusive, toInclusive, viewer, viewer],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * The next stream_id of a local user's m.device_list_update EDUs (1 for
   * the first), inside the caller's transaction; the row stays locked until
   * it commits, so a user's updates are numbered in the order they commit.
   */
  async nextFederationStreamId(q: Queryable, userId: string): Promise<number> {
    const row = await q.queryOne<{ stream_id: number }>(
      `INSERT INTO e2e_device_list_outbound (user_id, stream_id) VALUES (?, 1)
       ON CONFLICT (user_id) DO UPDATE SET stream_id = e2e_device_list_outbound.stream_id + 1 RETURNING stream_id`,
      [userId],
    );
    return Number(row!.stream_id);
  }

  /**
   * The stream_id of a local user's last m.device_list_update, with the
   * user's row locked until the caller's transaction ends: changes to the
   * user's devices wait, so what the caller reads of them stays current.
   */
  async lockFederationStreamId(q: Queryable, userId: string): Promise<number> {
    const row = await q.queryOne<{ stream_id: number }>(
      `INSERT INTO e2e_device_list_outbound (user_id, stream_id) VALUES (?, 0)
       ON CONFLICT (user_id) DO UPDATE SET stream_id = e2e_device_list_outbound.stream_id RETURNING stream_id`,
      [userId],
    );
    return Number(row!.stream_id);
  }

  /** The stream_id of a local user's last m.device_list_update (0 before any). */
  async federationStreamId(userId: string): Promise<number> {
    const row = await this.db.queryOne<{ stream_id: number }>('SELECT stream_id FROM e2e_device_list_outbound WHERE user_id = ?', [userId]);
    return Number(row?.stream_id ?? 0);
  }

  /** The latest viewer row per user in (from, to]. */
  async viewerChanges(viewer: string, fromExclusive: number, toInclusive: number): Promise<Map<string, ViewerChangeKind>> {
    const rows = await this.db.query<{ user_id: string; kind: ViewerChangeKind }>(
      `SELECT user_id, kind FROM e2e_device_list_viewer_changes
       WHERE viewer_user_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id`,
      [viewer, fromExclusive, toInclusive],
    );
    return new Map(rows.map((r) => [r.user_id, r.kind]));
  }
}
