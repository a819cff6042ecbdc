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
