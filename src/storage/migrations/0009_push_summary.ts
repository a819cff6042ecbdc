import type { Migration } from './index.js';

// Unread counts kept as running totals per user, room and thread, so /sync
// reads a few rows instead of counting every notifying event since the
// user's read mark (which grows without bound in a busy room never read).
// Adding a push action increments its row; moving a read mark recomputes the
// rows it covers from event_push_actions. Filled here from existing data.
export const pushSummaryMigration: Migration = {
  id: 9,
  name: 'push_summary',
  statements: [
    `CREATE TABLE event_push_summary (
      user_id TEXT NOT NULL,
      room_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      notif_count BIGINT NOT NULL,
      highlight_count BIGINT NOT NULL,
      PRIMARY KEY (user_id, room_id, thread_id)
    )`,
    `INSERT INTO event_push_summary (user_id, room_id, thread_id, notif_count, highlight_count)
     SELECT a.user_id, a.room_id, a.thread_id, COUNT(*), SUM(a.highlight)
     FROM event_push_actions a
     LEFT JOIN push_read_marks u ON u.user_id = a.user_id AND u.room_id = a.room_id AND u.thread_id = ''
     LEFT JOIN push_read_marks t ON t.user_id = a.user_id AND t.room_id = a.room_id AND t.thread_id = a.thread_id
     WHERE a.stream_ordering > COALESCE(u.stream_ordering, 0) AND a.stream_ordering > COALESCE(t.stream_ordering, 0)
     GROUP BY a.user_id, a.room_id, a.thread_id`,
  ],
};
