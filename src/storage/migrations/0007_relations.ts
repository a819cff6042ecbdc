import type { Migration } from './index.js';

// Event relationships (client-server-api/_index.md "Forming relationships
// between events"): one row per child event naming its parent, so relations,
// threads and bundled aggregations are index reads rather than scans of
// event JSON. stream_ordering copies the child's position for ordering.
export const relationsMigration: Migration = {
  id: 7,
  name: 'relations',
  statements: [
    `CREATE TABLE event_relations (
      event_id TEXT NOT NULL PRIMARY KEY,
      relates_to_id TEXT NOT NULL,
      rel_type TEXT NOT NULL,
      aggregation_key TEXT,
      room_id TEXT NOT NULL,
      sender TEXT NOT NULL,
      type TEXT NOT NULL,
      stream_ordering BIGINT NOT NULL
    )`,
    'CREATE INDEX event_relations_parent ON event_relations (relates_to_id, rel_type, stream_ordering)',
    // GET /threads lists roots by their latest reply.
    'CREATE INDEX event_relations_threads ON event_relations (room_id, rel_type, stream_ordering)',
  ],
};
