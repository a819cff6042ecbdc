import type { Migration } from './index.js';

// Events fetched from other servers' history (backfill) are older than
// everything this server had: they take stream positions below zero,
// counting down, so /sync (which reads forward from its token) never sees
// them as new, while /messages paging backwards reaches them after the
// room's earliest local events, as Synapse does with negative orderings.
export const backfillPositionsMigration: Migration = {
  id: 26,
  name: 'backfill_positions',
  statements: [
    'CREATE TABLE event_backfill_position (id INTEGER PRIMARY KEY CHECK (id = 1), position BIGINT NOT NULL)',
    'INSERT INTO event_backfill_position (id, position) VALUES (1, 0)',
  ],
};
