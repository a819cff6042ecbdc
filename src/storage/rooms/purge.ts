// Removing room history from storage, for the admin API's purge_history and
// room deletion (Synapse docs, admin_api/purge_history_api.md and rooms.md
// "Delete Room API"). Rows keyed by an event go with the event; rows keyed by
// the room go with the room.
import type { Database } from '../database.js';
import { recountUnread } from '../push/notifications.js';
import { searchRowKey } from '../search.js';
import { chunks, chunkSizeFor, placeholders } from './sql.js';

/** A timeline event old enough to purge. */
export interface PurgeCandidate {
  eventId: string;
  sender: string;
  /** null for non-state events. */
  stateKey: string | null;
  streamOrdering: number;
}

/** Tables with one row per event (or per child event), deleted with the event. */
const EVENT_TABLES = ['event_edges', 'event_auth_edges', 'event_txn_ids', 'event_relations', 'event_push_actions'] as const;

/**
 * Tables keyed by room that go with a deleted room. Content reports stay (an
 * operator's record, as in Synapse), and so do users' key backups, which are
 * theirs; interned state snapshot rows hold only integers and stay too.
 */
const ROOM_TABLES = [
  'forward_extremities',
  'current_state',
  'room_memberships',
  'room_stripped_states',
  'room_aliases',
  'receipts',
  'event_push_actions',
  'push_read_marks',
  'event_push_summary',
  'event_relations',
  'user_directory_public_rooms',
  'account_data',
  'events',
  'rooms',
] as const;

export class RoomPurgeStore {
  constructor(private readonly db: Database) {}

  /**
   * The room's events deeper in history than `depth` that a purge may touch:
   * timeline events, and non-state outliers (events an earlier purge kept
   * out of the timeline), leaving out the forward extremities (new events
   * are built on them). As Synapse selects them.
   */
  async historyBefore(roomId: string, depth: number): Promise<PurgeCandidate[]> {
    const rows = await this.db.query<{ event_id: string; sender: string; state_key: string | null; stream_ordering: number }>(
      `SELECT e.event_id, e.sender, e.state_key, e.stream_ordering FROM events e
       WHERE e.room_id = ? AND e.depth < ? AND (e.outlier = 0 OR e.state_key IS NULL)
         AND NOT EXISTS (SELECT 1 FROM forward_extremities f WHERE f.room_id = e.room_id AND f.event_id = e.event_id)`,
      [roomId, depth],
    );
    return rows.map((r) => ({ eventId: r.event_id, sender: r.sender, stateKey: r.state_key, streamOrdering: Number(r.stream_ordering) }));
  }

  /**
   * In one transaction: deletes `remove` and what hangs on them, and turns
   * `hide` into outliers — kept for authorisation and state, gone from the
   * timeline (what Synapse does with the state and local events it keeps).
   * Notifications of both go, and the room's unread totals are recounted
   * without them: a count covers what a client can see in the timeline.
   */
  async purgeEvents(roomId: string, remove: readonly PurgeCandidate[], hide: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const chunk of chunks(hide, chunkSizeFor(1))) {
        await tx.execute(`UPDATE events SET outlier = 1 WHERE event_id IN (${placeholders(chunk.length)})`, chunk);
        await tx.execute(`DELETE FROM event_push_actions WHERE event_id IN (${placeholders(chunk.length)})`, chunk);
      }
      for (const chunk of chunks(remove, chunkSizeFor(1))) {
        const positions = chunk.map((e) => e.streamOrdering);
        await tx.execute(`DELETE FROM event_search WHERE ${searchRowKey(this.db.engine)} IN (${placeholders(chunk.length)})`, positions);
        const ids = chunk.map((e) => e.eventId);
        for (const table of EVENT_TABLES) await tx.execute(`DELETE FROM ${table} WHERE event_id IN (${placeholders(ids.length)})`, ids);
        await tx.execute(`DELETE FROM events WHERE event_id IN (${placeholders(ids.length)})`, ids);
      }
      await recountUnread(tx, 's.room_id = ?', [roomId]);
    });
  }

  /** Deletes the room and everything stored about it; returns the users who had a membership in it. */
  async purgeRoom(roomId: string): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const members = await tx.query<{ user_id: string }>('SELECT user_id FROM room_memberships WHERE room_id = ?', [roomId]);
      const ofRoom = 'event_id IN (SELECT event_id FROM events WHERE room_id = ?)';
      for (const table of ['event_edges', 'event_auth_edges', 'event_txn_ids']) {
        await tx.execute(`DELETE FROM ${table} WHERE ${ofRoom}`, [roomId]);
      }
      await tx.execute('DELETE FROM event_search WHERE room_id = ?', [roomId]);
      for (const table of ROOM_TABLES) await tx.execute(`DELETE FROM ${table} WHERE room_id = ?`, [roomId]);
      return members.map((m) => m.user_id);
    });
  }
}
