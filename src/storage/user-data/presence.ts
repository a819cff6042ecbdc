// Presence (client-server-api/modules/presence.md): one row per user. The
// stream position moves only when what others see changes (state, status
// message, becoming active again), not on every keep-alive.
import type { Database } from '../database.js';
import { placeholders, queryInChunks } from '../rooms/sql.js';
import { currentPosition, nextPosition } from './counters.js';

export type PresenceState = 'online' | 'unavailable' | 'offline';

export interface PresenceRecord {
  userId: string;
  state: PresenceState;
  statusMsg: string | null;
  lastActiveTs: number;
  streamId: number;
}

interface PresenceRow {
  user_id: string;
  state: PresenceState;
  status_msg: string | null;
  last_active_ts: number;
  stream_id: number;
}

const COLUMNS = 'user_id, state, status_msg, last_active_ts, stream_id';

function toRecord(row: PresenceRow): PresenceRecord {
  return {
    userId: row.user_id,
    state: row.state,
    statusMsg: row.status_msg,
    lastActiveTs: Number(row.last_active_ts),
    streamId: Number(row.stream_id),
  };
}

export interface PresenceUpdate {
  state: PresenceState;
  statusMsg: string | null;
  lastActiveTs: number;
}

export class PresenceStore {
  constructor(private readonly db: Database) {}

  async get(userId: string): Promise<PresenceRecord | undefined> {
    const row = await this.db.queryOne<PresenceRow>(`SELECT ${COLUMNS} FROM presence WHERE user_id = ?`, [userId]);
    return row && toRecord(row);
  }

  /**
   * Writes the user's presence. With `streamed`, the write takes the next
   * stream position (returned); without, only the row changes (a refreshed
   * last-active time others need not be woken for) and the result is undefined.
   */
  async set(userId: string, update: PresenceUpdate, streamed: boolean): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const existing = await tx.queryOne<{ stream_id: number }>('SELECT stream_id FROM presence WHERE user_id = ?', [userId]);
      const streamId = streamed ? await nextPosition(tx, 'presence_stream') : Number(existing?.stream_id ?? 0);
      await tx.execute(
        `INSERT INTO presence (user_id, state, status_msg, last_active_ts, stream_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg,
           last_active_ts = excluded.last_active_ts, stream_id = excluded.stream_id`,
        [userId, update.state, update.statusMsg, update.lastActiveTs, streamId],
      );
      return streamed ? streamId : undefined;
    });
  }

  /** Presence of `userIds` changed after `fromExclusive` (0: every known one), oldest first. */
  async forUsers(userIds: readonly string[], fromExclusive = 0, toInclusive = Number.MAX_SAFE_INTEGER): Promise<PresenceRecord[]> {
    if (userIds.length === 0) return [];
    const rows = await queryInChunks([...userIds], (chunk) =>
      this.db.query<PresenceRow>(
        `SELECT ${COLUMNS} FROM presence WHERE user_id IN (${placeholders(chunk.length)}) AND stream_id > ? AND stream_id <= ?`,
        [...chunk, fromExclusive, toInclusive],
      ),
    );
    return rows.map(toRecord).sort((a, b) => a.streamId - b.streamId);
  }

  /** The position of the latest streamed write (0 before any). */
  currentStreamId(): Promise<number> {
    return currentPosition(this.db, 'presence_stream');
  }
}
