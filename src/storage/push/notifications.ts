// Events that notified a user (event_push_actions) and how far the user has
// read (push_read_marks). Unread counts are the notifying events after the
// read mark, so a receipt resets them by moving the mark, and /notifications
// can say which notifications were read. The counts themselves are kept as
// running totals (event_push_summary): a new notification is newer than any
// mark, so it adds one; a mark that moves recounts the rows it covers.
import type { PushAction } from '../../core/push-rules/index.js';
import type { Database, Queryable, SqlValue } from '../database.js';
import { insertRows, placeholders, queryInChunks } from '../rooms/sql.js';

/** The thread ID of events outside any thread (receipts.md, "Threaded read receipts"). */
export const MAIN_THREAD = 'main';
/** The read-mark key of an unthreaded receipt, which covers every thread. */
export const ALL_THREADS = '';

export interface NewPushAction {
  userId: string;
  eventId: string;
  roomId: string;
  /** MAIN_THREAD or the thread root's event ID. */
  threadId: string;
  streamOrdering: number;
  /** When the notification was generated (ms). */
  ts: number;
  actions: PushAction[];
  highlight: boolean;
}

export interface StoredNotification extends NewPushAction {
  /** Whether the user's read mark is at or past the event. */
  read: boolean;
}

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

interface ActionRow {
  user_id: string;
  event_id: string;
  room_id: string;
  thread_id: string;
  stream_ordering: number;
  ts: number;
  actions: string;
  highlight: number;
  is_read: number;
}

interface CountRow {
  key: string;
  notifs: number;
  highlights: number | null;
}

/**
 * Joins each action row `a` to the user's unthreaded mark `u` and its
 * thread's mark `t`; an event is read when either mark is at or past it.
 */
const WITH_MARKS = `FROM event_push_actions a
  LEFT JOIN push_read_marks u ON u.user_id = a.user_id AND u.room_id = a.room_id AND u.thread_id = '${ALL_THREADS}'
  LEFT JOIN push_read_marks t ON t.user_id = a.user_id AND t.room_id = a.room_id AND t.thread_id = a.thread_id`;
const UNREAD = 'a.stream_ordering > COALESCE(u.stream_ordering, 0) AND a.stream_ordering > COALESCE(t.stream_ordering, 0)';

const SUMMARY_ADD = `ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET
  notif_count = event_push_summary.notif_count + excluded.notif_count,
  highlight_count = event_push_summary.highlight_count + excluded.highlight_count`;

/** The actions summed per user, room and thread, as event_push_summary rows to add. */
function summaryIncrements(actions: readonly NewPushAction[]): SqlValue[][] {
  const byKey = new Map<string, SqlValue[]>();
  for (const a of actions) {
    const key = JSON.stringify([a.userId, a.roomId, a.threadId]);
    const row = byKey.get(key) ?? [a.userId, a.roomId, a.threadId, 0, 0];
    row[3] = (row[3] as number) + 1;
    row[4] = (row[4] as number) + (a.highlight ? 1 : 0);
    byKey.set(key, row);
  }
  return [...byKey.values()];
}

/**
 * Recounts the unread totals of the event_push_summary rows `s` that match
 * `where` and have something unread, from the notifications after the
 * user's read marks: after a mark moved, or notifications were deleted.
 */
export async function recountUnread(tx: Queryable, where: string, params: readonly SqlValue[]): Promise<void> {
  // Read up to the later of the row's thread mark and the unthreaded
  // mark: a plain bound, so the count is a range scan of what is unread.
  const readUpTo = `(SELECT COALESCE(MAX(m.stream_ordering), 0) FROM push_read_marks m
     WHERE m.user_id = s.user_id AND m.room_id = s.room_id AND m.thread_id IN ('${ALL_THREADS}', s.thread_id))`;
  const unread = (column: string) => `(SELECT ${column} FROM event_push_actions a
     WHERE a.user_id = s.user_id AND a.room_id = s.room_id AND a.stream_ordering > ${readUpTo} AND a.thread_id = s.thread_id)`;
  await tx.execute(
    `UPDATE event_push_summary AS s SET notif_count = ${unread('COUNT(*)')}, highlight_count = ${unread('COALESCE(SUM(a.highlight), 0)')}
     WHERE ${where} AND s.notif_count > 0`,
    [...params],
  );
}

export class NotificationStore {
  constructor(private readonly db: Database) {}

  /** Stores notifications for newly persisted events and adds them to the unread totals. */
  async add(actions: readonly NewPushAction[]): Promise<void> {
    if (actions.length === 0) return;
    const rows: SqlValue[][] = actions.map((a) => [
      a.userId,
      a.eventId,
      a.roomId,
      a.threadId,
      a.streamOrdering,
      a.ts,
      JSON.stringify(a.actions),
      a.highlight ? 1 : 0,
    ]);
    await this.db.transaction(async (tx) => {
      await insertRows(
        tx,
        'event_push_actions',
        ['user_id', 'event_id', 'room_id', 'thread_id', 'stream_ordering', 'ts', 'actions', 'highlight'],
        rows,
        'ON CONFLICT DO NOTHING',
      );
      // One row per key: PostgreSQL refuses to update a row twice in one statement.
      await insertRows(tx, 'event_push_summary', ['user_id', 'room_id', 'thread_id', 'notif_count', 'highlight_count'], summaryIncrements(actions), SUMMARY_ADD);
    });
  }

  /**
   * Moves the user's read mark for the room (and `threadId`, or ALL_THREADS)
   * forward to `streamOrdering`; a mark never moves back, since receipts for
   * older events arrive late and must not resurrect counts. The unread totals
   * it covers (every thread for ALL_THREADS) are recounted; only rows with
   * something unread can change, and they hold what was not read yet.
   */
  async markRead(userId: string, roomId: string, threadId: string, streamOrdering: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(
        `INSERT INTO push_read_marks (user_id, room_id, thread_id, stream_ordering) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET stream_ordering =
           CASE WHEN excluded.stream_ordering > push_read_marks.stream_ordering
                THEN excluded.stream_ordering ELSE push_read_marks.stream_ordering END`,
        [userId, roomId, threadId, streamOrdering],
      );
      const threadClause = threadId === ALL_THREADS ? '' : ' AND s.thread_id = ?';
      await recountUnread(tx, `s.user_id = ? AND s.room_id = ?${threadClause}`, threadId === ALL_THREADS ? [userId, roomId] : [userId, roomId, threadId]);
    });
  }

  /** Unread counts per room, over all threads; rooms without unread notifications get zeros. */
  async countsFor(userId: string, roomIds: readonly string[]): Promise<Map<string, UnreadCounts>> {
    const rows = await queryInChunks(roomIds, (chunk) =>
      this.db.query<CountRow>(
        `SELECT room_id AS key, SUM(notif_count) AS notifs, SUM(highlight_count) AS highlights FROM event_push_summary
         WHERE user_id = ? AND room_id IN (${placeholders(chunk.length)}) AND notif_count > 0
         GROUP BY room_id`,
        [userId, ...chunk],
      ),
    );
    const counts = new Map(roomIds.map((roomId) => [roomId, zero()]));
    for (const row of rows) counts.set(row.key, toCounts(row));
    return counts;
  }

  /** Unread counts of every room where the user has something unread (rooms without any are absent). */
  async unreadRooms(userId: string): Promise<Map<string, UnreadCounts>> {
    const rows = await this.db.query<CountRow>(
      `SELECT room_id AS key, SUM(notif_count) AS notifs, SUM(highlight_count) AS highlights FROM event_push_summary
       WHERE user_id = ? AND notif_count > 0 GROUP BY room_id`,
      [userId],
    );
    return new Map(rows.map((row) => [row.key, toCounts(row)]));
  }

  /** Unread counts of one room by thread (MAIN_THREAD or a thread root); threads without any are absent. */
  async countsByThread(userId: string, roomId: string): Promise<Map<string, UnreadCounts>> {
    const rows = await this.db.query<CountRow>(
      `SELECT thread_id AS key, notif_count AS notifs, highlight_count AS highlights FROM event_push_summary
       WHERE user_id = ? AND room_id = ? AND notif_count > 0`,
      [userId, roomId],
    );
    return new Map(rows.map((row) => [row.key, toCounts(row)]));
  }

  /** Unread notifications across all the user's rooms (the push gateway's badge count). */
  async totalUnread(userId: string): Promise<number> {
    const row = await this.db.queryOne<{ n: number | null }>('SELECT SUM(notif_count) AS n FROM event_push_summary WHERE user_id = ?', [userId]);
    return Number(row?.n ?? 0);
  }

  /**
   * The user's notifications, newest first: those before stream position
   * `before` (exclusive), at most `limit`, optionally only highlights.
   */
  async list(userId: string, opts: { before?: number; limit: number; onlyHighlight: boolean }): Promise<StoredNotification[]> {
    const params: SqlValue[] = [userId];
    let where = 'a.user_id = ?';
    if (opts.before !== undefined) {
      where += ' AND a.stream_ordering < ?';
      params.push(opts.before);
    }
    if (opts.onlyHighlight) where += ' AND a.highlight = 1';
    const rows = await this.db.query<ActionRow>(
      `SELECT a.user_id, a.event_id, a.room_id, a.thread_id, a.stream_ordering, a.ts, a.actions, a.highlight,
              CASE WHEN ${UNREAD} THEN 0 ELSE 1 END AS is_read
       ${WITH_MARKS} WHERE ${where} ORDER BY a.stream_ordering DESC LIMIT ?`,
      [...params, opts.limit],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      eventId: row.event_id,
      roomId: row.room_id,
      threadId: row.thread_id,
      streamOrdering: Number(row.stream_ordering),
      ts: Number(row.ts),
      actions: JSON.parse(row.actions) as PushAction[],
      highlight: Number(row.highlight) !== 0,
      read: Number(row.is_read) !== 0,
    }));
  }
}

function zero(): UnreadCounts {
  return { notification_count: 0, highlight_count: 0 };
}

function toCounts(row: CountRow): UnreadCounts {
  return { notification_count: Number(row.notifs), highlight_count: Number(row.highlights ?? 0) };
}
