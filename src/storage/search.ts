// Full-text search over room events (client-server-api/modules/search.md).
// SQLite uses an FTS5 table ranked by bm25; PostgreSQL a tsvector column with
// a GIN index ranked by ts_rank (see migration 0006). Both index the same
// words ('simple' tokenising: no stemming, no stop words), and queries are
// word-prefix matches joined by AND, so the engines agree on what matches.
import type { Database, Engine, SqlValue } from './database.js';
import { placeholders } from './rooms/sql.js';

/** The event fields search indexes, by the spec's `keys` names. */
export type SearchKey = 'content.body' | 'content.name' | 'content.topic';

export interface SearchEntry {
  eventId: string;
  key: SearchKey;
  value: string;
}

/** A room to search: all of it, or (a room the searcher left) only up to a stream position. */
export interface SearchRoom {
  roomId: string;
  /** Only events at or before this stream position; absent to search the whole room. */
  upTo?: number;
}

export interface SearchQuery {
  /** Words to find; each matches as a prefix, all must be present. */
  words: readonly string[];
  /** Each room at most once. */
  rooms: readonly SearchRoom[];
  keys: readonly SearchKey[];
  senders?: readonly string[];
  notSenders: readonly string[];
  orderBy: 'rank' | 'recent';
  limit: number;
  /** Results to skip ('rank' pagination). */
  offset: number;
  /** Only events strictly before this stream position ('recent' pagination). */
  beforeStream?: number;
}

export interface SearchHit {
  eventId: string;
  roomId: string;
  streamOrdering: number;
  /** Higher is better. */
  rank: number;
}

/** The words of a search term or indexed text: runs of letters and digits, lower-cased. */
export function searchWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export class SearchStore {
  constructor(private readonly db: Database) {}

  /**
   * Indexes a newly stored event's searchable text. Each event is indexed
   * once, as it is persisted, under its own new stream position, so there is
   * never an earlier entry to replace.
   */
  async index(entry: SearchEntry): Promise<void> {
    if (this.db.engine === 'sqlite') {
      await this.db.execute(
        'INSERT INTO event_search (rowid, value, room_id, key) SELECT stream_ordering, ?, room_id, ? FROM events WHERE event_id = ?',
        [entry.value, entry.key, entry.eventId],
      );
    } else {
      await this.db.execute(
        `INSERT INTO event_search (stream_ordering, room_id, key, vector)
         SELECT stream_ordering, room_id, ?, to_tsvector('simple', ?) FROM events WHERE event_id = ?`,
        [entry.key, entry.value, entry.eventId],
      );
    }
  }

  /** Drops an event from the index (it was redacted); false if it was not indexed. */
  async remove(eventId: string): Promise<boolean> {
    const { changes } = await this.db.execute(
      `DELETE FROM event_search WHERE ${this.rowKey()} = (SELECT stream_ordering FROM events WHERE event_id = ?)`,
      [eventId],
    );
    return changes > 0;
  }

  /** One page of matches, best (or newest) first. */
  async search(query: SearchQuery): Promise<SearchHit[]> {
    if (!this.searchable(query)) return [];
    const { withRooms, from, where, params, match } = this.matchSql(query);
    // PostgreSQL's rank expression takes the query too, and it comes after the rooms in the statement.
    const rankParams: SqlValue[] = this.db.engine === 'sqlite' ? [] : [match];
    const order = query.orderBy === 'rank' ? 'rank DESC, e.stream_ordering DESC' : 'e.stream_ordering DESC';
    const rows = await this.db.query<{ event_id: string; room_id: string; stream_ordering: number; rank: number }>(
      `${withRooms.sql} SELECT e.event_id, e.room_id, e.stream_ordering, ${this.rankSql()} AS rank FROM ${from} WHERE ${where}
       ORDER BY ${order} LIMIT ? OFFSET ?`,
      [...withRooms.params, ...rankParams, ...params, query.limit, query.orderBy === 'rank' ? query.offset : 0],
    );
    return rows.map((r) => ({ eventId: r.event_id, roomId: r.room_id, streamOrdering: Number(r.stream_ordering), rank: Number(r.rank) }));
  }

  /** How many events match in all (the response's `count`), ignoring pagination. */
  async count(query: SearchQuery): Promise<number> {
    if (!this.searchable(query)) return 0;
    const { withRooms, from, where, params } = this.matchSql({ ...query, beforeStream: undefined });
    const row = await this.db.queryOne<{ n: number }>(`${withRooms.sql} SELECT COUNT(*) AS n FROM ${from} WHERE ${where}`, [
      ...withRooms.params,
      ...params,
    ]);
    return Number(row?.n ?? 0);
  }

  private searchable(query: SearchQuery): boolean {
    return query.words.length > 0 && query.rooms.length > 0 && query.keys.length > 0 && query.senders?.length !== 0;
  }

  private rowKey(): string {
    return searchRowKey(this.db.engine);
  }

  private rankSql(): string {
    // bm25 is lower for better matches; flip it so both engines rank higher = better.
    return this.db.engine === 'sqlite' ? '-bm25(event_search)' : 'ts_rank(event_search.vector, to_tsquery(\'simple\', ?))';
  }

  /**
   * The rooms as a `searchable (room_id, up_to)` table the search joins to:
   * one parameterised row per room rather than an OR per room, so a user
   * with many left rooms stays within SQLite's expression depth limit and
   * the engines can index the table (SQLite builds an automatic index,
   * PostgreSQL hashes it). The cast gives PostgreSQL the column's type.
   */
  private withRooms(rooms: readonly SearchRoom[]): { sql: string; params: SqlValue[] } {
    const rows = rooms.map(() => '(?, CAST(? AS BIGINT))').join(', ');
    return { sql: `WITH searchable (room_id, up_to) AS (VALUES ${rows})`, params: rooms.flatMap((r) => [r.roomId, r.upTo ?? null]) };
  }

  private matchSql(query: SearchQuery): {
    withRooms: { sql: string; params: SqlValue[] };
    from: string;
    where: string;
    params: SqlValue[];
    match: string;
  } {
    const sqlite = this.db.engine === 'sqlite';
    // Words are letters and digits only (searchWords), so they cannot break out of either query syntax.
    const match = sqlite ? query.words.map((w) => `"${w}"*`).join(' ') : query.words.map((w) => `${w}:*`).join(' & ');
    const conditions = [
      sqlite ? 'event_search MATCH ?' : "event_search.vector @@ to_tsquery('simple', ?)",
      '(searchable.up_to IS NULL OR e.stream_ordering <= searchable.up_to)',
      `event_search.key IN (${placeholders(query.keys.length)})`,
      'e.redacted_because IS NULL',
    ];
    const params: SqlValue[] = [match, ...query.keys];
    if (query.senders) {
      conditions.push(`e.sender IN (${placeholders(query.senders.length)})`);
      params.push(...query.senders);
    }
    if (query.notSenders.length > 0) {
      conditions.push(`e.sender NOT IN (${placeholders(query.notSenders.length)})`);
      params.push(...query.notSenders);
    }
    if (query.beforeStream !== undefined) {
      conditions.push('e.stream_ordering < ?');
      params.push(query.beforeStream);
    }
    return {
      withRooms: this.withRooms(query.rooms),
      from: `event_search JOIN events e ON e.stream_ordering = event_search.${this.rowKey()}
        JOIN searchable ON searchable.room_id = event_search.room_id`,
      where: conditions.join(' AND '),
      params,
      match,
    };
  }
}

/** The column of event_search holding the event's stream position (FTS5 keeps it as the rowid). */
export function searchRowKey(engine: Engine): string {
  return engine === 'sqlite' ? 'rowid' : 'stream_ordering';
}
