// Event relationships: which events relate to which (m.thread, m.replace,
// m.annotation, m.reference, …), filled as events are persisted, and the
// reads behind GET /relations, GET /threads and bundled aggregations.
// Redacted children are left out of every read: a redaction strips
// m.relates_to, so the event no longer relates to anything.
import type { Database } from '../database.js';
import { eventFromRow, EVENT_COLUMNS, type EventRow, type StoredEvent } from './event-rows.js';
import type { StreamDirection } from './events.js';
import { placeholders, queryInChunks } from './sql.js';

export interface EventRelation {
  eventId: string;
  relatesToId: string;
  relType: string;
  /** m.annotation's `key`. */
  aggregationKey: string | null;
  roomId: string;
  sender: string;
  type: string;
  streamOrdering: number;
}

export interface ChildQuery {
  relType?: string;
  eventType?: string;
  /** Stream positions naming gaps after events, as pagination tokens do. */
  from: number;
  to: number;
  limit: number;
  direction: StreamDirection;
}

export interface ThreadSummary {
  rootId: string;
  count: number;
  latestEventId: string;
  /** The latest reply's stream ordering: threads are listed by it. */
  latestStreamOrdering: number;
}

const E_COLUMNS = EVENT_COLUMNS.map((c) => `e.${c}`).join(', ');
/** The child exists as a timeline event and is not redacted. */
const LIVE_CHILD = 'e.outlier = 0 AND e.rejected_reason IS NULL AND e.soft_failed = 0 AND e.redacted_because IS NULL';

export class RelationStore {
  constructor(private readonly db: Database) {}

  async addRelation(relation: EventRelation): Promise<void> {
    await this.db.execute(
      `INSERT INTO event_relations (event_id, relates_to_id, rel_type, aggregation_key, room_id, sender, type, stream_ordering)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
      [
        relation.eventId,
        relation.relatesToId,
        relation.relType,
        relation.aggregationKey,
        relation.roomId,
        relation.sender,
        relation.type,
        relation.streamOrdering,
      ],
    );
  }

  /** Events relating to any of `parentIds` between two stream positions, newest first for 'backward'. */
  async children(parentIds: readonly string[], query: ChildQuery): Promise<StoredEvent[]> {
    if (parentIds.length === 0) return [];
    const forward = query.direction === 'forward';
    const [low, high] = forward ? [query.from, query.to] : [query.to, query.from];
    const params: (string | number)[] = [...parentIds, low, high];
    let extra = '';
    if (query.relType !== undefined) {
      extra += ' AND r.rel_type = ?';
      params.push(query.relType);
    }
    if (query.eventType !== undefined) {
      extra += ' AND r.type = ?';
      params.push(query.eventType);
    }
    const rows = await this.db.query<EventRow>(
      `SELECT ${E_COLUMNS} FROM event_relations r JOIN events e ON e.event_id = r.event_id
       WHERE r.relates_to_id IN (${placeholders(parentIds.length)}) AND r.stream_ordering > ? AND r.stream_ordering <= ?${extra} AND ${LIVE_CHILD}
       ORDER BY r.stream_ordering ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(eventFromRow);
  }

  /** Every live relation (of `relType`, if given) to any of `parentIds`, oldest first. */
  async relationsTo(parentIds: readonly string[], relType?: string): Promise<EventRelation[]> {
    const rows = await queryInChunks([...new Set(parentIds)], (chunk) =>
      this.db.query<Record<string, unknown>>(
        `SELECT r.event_id, r.relates_to_id, r.rel_type, r.aggregation_key, r.room_id, r.sender, r.type, r.stream_ordering
         FROM event_relations r JOIN events e ON e.event_id = r.event_id
         WHERE r.relates_to_id IN (${placeholders(chunk.length)})${relType === undefined ? '' : ' AND r.rel_type = ?'} AND ${LIVE_CHILD}`,
        relType === undefined ? chunk : [...chunk, relType],
      ),
    );
    return rows.map(toRelation).sort((a, b) => a.streamOrdering - b.streamOrdering);
  }

  /**
   * The room's threads whose latest reply is at or below stream position
   * `from`, most recently active first; `participant` keeps only threads
   * the user started or replied to (threads_list.yaml `include=participated`).
   */
  async threads(roomId: string, from: number, limit: number, participant?: string): Promise<ThreadSummary[]> {
    const participation = participant === undefined ? '' : ' AND (root.sender = ? OR SUM(CASE WHEN r.sender = ? THEN 1 ELSE 0 END) > 0)';
    const rows = await this.db.query<{ root_id: string; count: number; latest: number }>(
      `SELECT r.relates_to_id AS root_id, COUNT(*) AS count, MAX(r.stream_ordering) AS latest
       FROM event_relations r JOIN events e ON e.event_id = r.event_id JOIN events root ON root.event_id = r.relates_to_id
       WHERE r.room_id = ? AND r.rel_type = 'm.thread' AND ${LIVE_CHILD}
       GROUP BY r.relates_to_id, root.sender
       HAVING MAX(r.stream_ordering) <= ?${participation}
       ORDER BY latest DESC LIMIT ?`,
      participant === undefined ? [roomId, from, limit] : [roomId, from, participant, participant, limit],
    );
    const latestIds = await this.eventIdsAt(rows.map((r) => Number(r.latest)));
    return rows.map((r) => ({
      rootId: r.root_id,
      count: Number(r.count),
      latestStreamOrdering: Number(r.latest),
      latestEventId: latestIds.get(Number(r.latest))!,
    }));
  }

  private async eventIdsAt(positions: readonly number[]): Promise<Map<number, string>> {
    const rows = await queryInChunks([...new Set(positions)], (chunk) =>
      this.db.query<{ event_id: string; stream_ordering: number }>(
        `SELECT event_id, stream_ordering FROM event_relations WHERE stream_ordering IN (${placeholders(chunk.length)})`,
        chunk,
      ),
    );
    return new Map(rows.map((r) => [Number(r.stream_ordering), r.event_id]));
  }
}

function toRelation(row: Record<string, unknown>): EventRelation {
  return {
    eventId: row.event_id as string,
    relatesToId: row.relates_to_id as string,
    relType: row.rel_type as string,
    aggregationKey: (row.aggregation_key as string | null) ?? null,
    roomId: row.room_id as string,
    sender: row.sender as string,
    type: row.type as string,
    streamOrdering: Number(row.stream_ordering),
  };
}
