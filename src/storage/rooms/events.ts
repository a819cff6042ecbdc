// Events: persisting batches (with their DAG edges, forward extremities,
// transaction IDs, stream positions and current state) and reading them back.
import type { Database, Queryable, SqlValue } from '../database.js';
import { referencedEventIds } from '../../core/auth-events.js';
import type { Event } from '../../core/types.js';
import type { CurrentStateStore, CurrentStateUpdate } from './current-state.js';
import { eventFromRow, EVENT_COLUMNS, type EventRow, type StoredEvent } from './event-rows.js';
import type { SnapshotId } from './state.js';
import { chunks, chunkSizeFor, insertRows, placeholders, queryInChunks } from './sql.js';

/**
 * A client transaction ID, scoped to the sending device and the endpoint
 * (client-server-api "Transaction identifiers"): `scope` names the endpoint
 * and its path parameters, e.g. a send's room and event type.
 */
export interface TxnKey {
  userId: string;
  deviceId: string;
  scope: string;
  txnId: string;
}

export interface EventToPersist {
  event: Event;
  /** The PDU's canonical JSON exactly as received or created (v3+ PDUs carry no event_id). */
  json: string;
  /** Known only as an auth/state event: kept out of the timeline and the forward extremities. */
  outlier?: boolean;
  rejectedReason?: string | null;
  softFailed?: boolean;
  stateSnapshotBefore?: SnapshotId | null;
  /** For a state event: the event it replaces in the room's state, if any. */
  replacesState?: string | null;
  /** For events a local client sent with PUT …/send/{eventType}/{txnId}. */
  txn?: TxnKey;
}

export interface PersistBatch {
  events: readonly EventToPersist[];
  /** Current state changes to apply in the same transaction, after the events are stored. */
  currentState?: readonly { roomId: string; update: CurrentStateUpdate }[];
  /**
   * The events were built by this server moments ago on the room's forward
   * extremities, in the room's queue, after their transaction IDs were looked
   * up: none can be stored already and none has a child yet, so the look-ups
   * that guard against both are skipped (they are round trips on every send).
   * A transaction ID raced in from another room still fails on its key.
   */
  builtHere?: boolean;
  /**
   * Events of a room's history from before what this server had (backfill),
   * oldest first: they take positions below every other event, leave the
   * forward extremities and current state alone, and /sync never sees them.
   */
  backfilled?: boolean;
  /**
   * Rooms whose forward extremities are dropped before the batch's events
   * are added: a server joining a room again starts from the resident's
   * tips, not from where it left off.
   */
  resetExtremities?: readonly string[];
}

export interface PersistedEvent {
  /** The stored event's ID: for a repeated transaction ID, the event first sent with it. */
  eventId: string;
  streamOrdering: number;
  /** True when nothing new was stored: a known event, or a repeated transaction ID. */
  existing: boolean;
}

export type StreamDirection = 'forward' | 'backward';

/** Events a client may see in a timeline; the rest are kept for federation and auth. */
function timeline(alias = ''): string {
  return `${alias}outlier = 0 AND ${alias}rejected_reason IS NULL AND ${alias}soft_failed = 0`;
}
const SELECT_EVENT = `SELECT ${EVENT_COLUMNS.join(', ')} FROM events`;

const EVENT_INSERT_COLUMNS = [
  'stream_ordering',
  'event_id',
  'room_id',
  'type',
  'state_key',
  'sender',
  'depth',
  'origin_server_ts',
  'membership',
  'outlier',
  'rejected_reason',
  'soft_failed',
  'state_snapshot_before',
  'replaces_state',
  'json',
] as const;

interface KnownEvent {
  event_id: string;
  stream_ordering: number;
  outlier: number;
}

function membershipOf(event: Event): string | null {
  if (event.type !== 'm.room.member' || event.state_key === undefined) return null;
  const membership = event.content.membership;
  return typeof membership === 'string' ? membership : null;
}

/** Extends the room's timeline: in it, and able to be a forward extremity. */
function isTimelineEvent(e: EventToPersist): boolean {
  return !e.outlier && !e.rejectedReason && !e.softFailed;
}

export class EventStore {
  constructor(
    private readonly db: Database,
    private readonly currentState: CurrentStateStore,
  ) {}

  /**
   * Stores a batch of events in one transaction and returns, in input order,
   * where each landed in the events stream.
   *
   * Persisting first takes the events stream's counter row lock, so batches
   * are serialised and stream positions are handed out in commit order: a
   * reader that has seen `maxStreamPosition()` = N never later finds a new
   * event at or below N. Known events are skipped (an outlier persisted again
   * as a timeline event is promoted and gets a new position, so sync sees it);
   * an event whose transaction ID was used before is dropped in favour of the
   * first event sent with it.
   */
  async persistEvents(batch: PersistBatch): Promise<PersistedEvent[]> {
    return this.db.transaction(async (tx) => {
      // Positions for the whole batch in one statement; events found to be
      // stored already leave gaps, which stream tokens do not mind.
      let position = batch.backfilled
        ? (await reserveBackfillPositions(tx, batch.events.length)) - 1
        : (await reserveStreamPositions(tx, batch.events.length)) - batch.events.length;
      const known = batch.builtHere ? new Map<string, KnownEvent>() : await this.knownEvents(tx, batch.events.map((e) => e.event.event_id));
      const results: PersistedEvent[] = [];
      const inserts: [EventToPersist, number][] = [];
      const promotions: [EventToPersist, number][] = [];
      const seen = new Set<string>();
      const txnsInBatch = new Map<string, PersistedEvent>();

      for (const item of batch.events) {
        position += 1;
        const id = item.event.event_id;
        const txnKey = item.txn && JSON.stringify([item.txn.userId, item.txn.deviceId, item.txn.scope, item.txn.txnId]);
        const firstSent = item.txn && (txnsInBatch.get(txnKey!) ?? (batch.builtHere ? undefined : await this.txnResult(tx, item.txn)));
        if (firstSent) {
          results.push({ ...firstSent, existing: true });
          continue;
        }
        if (seen.has(id)) {
          results.push({ ...results.find((r) => r.eventId === id)!, existing: true });
          continue;
        }
        const stored = known.get(id);
        if (stored && (!stored.outlier || item.outlier)) {
          results.push({ eventId: id, streamOrdering: Number(stored.stream_ordering), existing: true });
          continue;
        }
        seen.add(id);
        (stored ? promotions : inserts).push([item, position]);
        results.push({ eventId: id, streamOrdering: position, existing: false });
        if (txnKey) txnsInBatch.set(txnKey, results.at(-1)!);
      }

      await insertEvents(tx, inserts);
      for (const [item, pos] of promotions) await promoteOutlier(tx, item, pos);
      const written = [...inserts, ...promotions].map(([item]) => item);
      await insertEdges(tx, written);
      await insertTxnIds(tx, written);
      for (const roomId of batch.resetExtremities ?? []) await tx.execute('DELETE FROM forward_extremities WHERE room_id = ?', [roomId]);
      if (!batch.backfilled) await updateForwardExtremities(tx, written.filter(isTimelineEvent), !batch.builtHere);
      for (const { roomId, update } of batch.currentState ?? []) await this.currentState.applyUpdate(tx, roomId, update);
      return results;
    });
  }

  /** The highest stream position whose events (and all below it) are committed. */
  async maxStreamPosition(): Promise<number> {
    const row = await this.db.queryOne<{ position: number }>('SELECT position FROM event_stream_position WHERE id = 1');
    return Number(row!.position);
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const row = await this.db.queryOne<EventRow>(`${SELECT_EVENT} WHERE event_id = ?`, [eventId]);
    return row && eventFromRow(row);
  }

  /** The stored events among `eventIds`, by ID (unknown IDs are absent). */
  async getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
    const rows = await queryInChunks([...new Set(eventIds)], (chunk) =>
      this.db.query<EventRow>(`${SELECT_EVENT} WHERE event_id IN (${placeholders(chunk.length)})`, chunk),
    );
    return new Map(rows.map((r) => [r.event_id as string, eventFromRow(r)]));
  }

  /** Which of `eventIds` are stored (as outliers or not). */
  async haveEvents(eventIds: readonly string[]): Promise<Set<string>> {
    const rows = await queryInChunks([...new Set(eventIds)], (chunk) =>
      this.db.query<{ event_id: string }>(`SELECT event_id FROM events WHERE event_id IN (${placeholders(chunk.length)})`, chunk),
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** Event ID first sent with this transaction ID, if any. */
  async getEventIdForTxn(txn: TxnKey): Promise<string | undefined> {
    return (await this.txnResult(this.db, txn))?.eventId;
  }

  /** Transaction IDs that `userId`'s device `deviceId` used for any of `eventIds`. */
  async getTxnIdsForEvents(eventIds: readonly string[], userId: string, deviceId: string): Promise<Map<string, string>> {
    const rows = await queryInChunks([...new Set(eventIds)], (chunk) =>
      this.db.query<{ event_id: string; txn_id: string }>(
        `SELECT event_id, txn_id FROM event_txn_ids WHERE user_id = ? AND device_id = ? AND event_id IN (${placeholders(chunk.length)})`,
        [userId, deviceId, ...chunk],
      ),
    );
    return new Map(rows.map((r) => [r.event_id, r.txn_id]));
  }

  /**
   * Timeline events of `roomIds` between two stream positions, at most `limit`.
   * Positions name the gap after an event, as sync tokens do: `forward`
   * returns from < position <= to in ascending order; `backward` returns
   * to < position <= from in descending order. Outliers, rejected and
   * soft-failed events are left out.
   */
  async getEventsByStream(
    roomIds: readonly string[],
    fromPos: number,
    toPos: number,
    limit: number,
    direction: StreamDirection,
  ): Promise<StoredEvent[]> {
    if (roomIds.length === 0 || limit <= 0) return [];
    const forward = direction === 'forward';
    const [low, high] = forward ? [fromPos, toPos] : [toPos, fromPos];
    const rows: EventRow[] = [];
    for (const chunk of chunks(roomIds, chunkSizeFor(1))) {
      rows.push(
        ...(await this.db.query<EventRow>(
          `${SELECT_EVENT} WHERE room_id IN (${placeholders(chunk.length)})
             AND stream_ordering > ? AND stream_ordering <= ? AND ${timeline()}
           ORDER BY stream_ordering ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
          [...chunk, low, high, limit],
        )),
      );
    }
    const events = rows.map(eventFromRow);
    events.sort((a, b) => (forward ? a.streamOrdering - b.streamOrdering : b.streamOrdering - a.streamOrdering));
    return events.slice(0, limit);
  }

  /** The room's `limit` earliest timeline events (backfilled ones included), oldest first. */
  async earliestTimelineEvents(roomId: string, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(`${SELECT_EVENT} WHERE room_id = ? AND ${timeline()} ORDER BY stream_ordering ASC LIMIT ?`, [roomId, limit]);
    return rows.map(eventFromRow);
  }

  /** The room's `limit` most recent timeline events, oldest first. */
  async getLatestEventsInRoom(roomId: string, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(
      `${SELECT_EVENT} WHERE room_id = ? AND ${timeline()} ORDER BY stream_ordering DESC LIMIT ?`,
      [roomId, limit],
    );
    return rows.map(eventFromRow).reverse();
  }

  /**
   * For /sync: each room's newest timeline events with from < position <= to,
   * at most `limit` per room, oldest first, in one query per chunk of rooms
   * (a window function, which both engines support). Rooms with no such
   * events are absent, so an incremental sync learns which rooms changed
   * from the same query.
   */
  async recentEventsPerRoom(roomIds: readonly string[], fromPos: number, toPos: number, limit: number): Promise<Map<string, StoredEvent[]>> {
    const byRoom = new Map<string, StoredEvent[]>();
    if (limit <= 0) return byRoom;
    const rows = await queryInChunks(roomIds, (chunk) =>
      this.db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS.join(', ')} FROM (
           SELECT ${EVENT_COLUMNS.join(', ')},
                  ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY stream_ordering DESC) AS recency
           FROM events WHERE room_id IN (${placeholders(chunk.length)})
             AND stream_ordering > ? AND stream_ordering <= ? AND ${timeline()}
         ) recent WHERE recency <= ? ORDER BY stream_ordering`,
        [...chunk, fromPos, toPos, limit],
      ),
    );
    for (const event of rows.map(eventFromRow)) {
      const list = byRoom.get(event.roomId);
      if (list) list.push(event);
      else byRoom.set(event.roomId, [event]);
    }
    return byRoom;
  }

  /** The room's timeline state events with from < position < to, oldest first (a limited sync's state gap). */
  async stateEventsBetween(roomId: string, fromPos: number, toPosExclusive: number): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(
      `${SELECT_EVENT} WHERE room_id = ? AND state_key IS NOT NULL AND stream_ordering > ? AND stream_ordering < ? AND ${timeline()}
       ORDER BY stream_ordering`,
      [roomId, fromPos, toPosExclusive],
    );
    return rows.map(eventFromRow);
  }

  /**
   * Each room's highest stream position among timeline events of `types`
   * at or below `toPos` (sliding sync's bump_stamp); rooms without one are absent.
   */
  async latestPositionPerRoom(roomIds: readonly string[], types: readonly string[], toPos: number): Promise<Map<string, number>> {
    if (types.length === 0) return new Map();
    const rows = await queryInChunks(roomIds, (chunk) =>
      this.db.query<{ room_id: string; latest: number }>(
        `SELECT room_id, MAX(stream_ordering) AS latest FROM events
         WHERE room_id IN (${placeholders(chunk.length)}) AND type IN (${placeholders(types.length)})
           AND stream_ordering <= ? AND ${timeline()}
         GROUP BY room_id`,
        [...chunk, ...types, toPos],
      ),
    );
    return new Map(rows.map((r) => [r.room_id, Number(r.latest)]));
  }

  /** Timeline events of the room that no other timeline event names as a prev_event. */
  async getForwardExtremities(roomId: string): Promise<string[]> {
    const rows = await this.db.query<{ event_id: string }>(
      'SELECT event_id FROM forward_extremities WHERE room_id = ? ORDER BY event_id',
      [roomId],
    );
    return rows.map((r) => r.event_id);
  }

  /**
   * The auth chain of the given events: their auth events, those events' auth
   * events, and so on (server-server-api "Auth chain"). The given events are
   * included only where one is in another's chain.
   */
  async authChainIds(eventIds: readonly string[]): Promise<string[]> {
    const found = new Set<string>();
    for (const chunk of chunks([...new Set(eventIds)], chunkSizeFor(1))) {
      // UNION (not UNION ALL) drops rows already seen, so the walk ends even on a cycle.
      const rows = await this.db.query<{ event_id: string }>(
        `WITH RECURSIVE chain (event_id) AS (
           SELECT auth_event_id FROM event_auth_edges WHERE event_id IN (${placeholders(chunk.length)})
           UNION
           SELECT a.auth_event_id FROM event_auth_edges a JOIN chain c ON a.event_id = c.event_id
         )
         SELECT event_id FROM chain`,
        chunk,
      );
      for (const row of rows) found.add(row.event_id);
    }
    return [...found].sort();
  }

  /** The events that name `eventId` as a prev_event. */
  async getChildEventIds(eventId: string): Promise<string[]> {
    const rows = await this.db.query<{ event_id: string }>(
      'SELECT event_id FROM event_edges WHERE prev_event_id = ? ORDER BY event_id',
      [eventId],
    );
    return rows.map((r) => r.event_id);
  }

  /** Records that `redactionEventId` redacts `eventId`; false if the event is unknown or already redacted. */
  async setRedactedBecause(eventId: string, redactionEventId: string): Promise<boolean> {
    const { changes } = await this.db.execute(
      'UPDATE events SET redacted_because = ? WHERE event_id = ? AND redacted_because IS NULL',
      [redactionEventId, eventId],
    );
    return changes > 0;
  }

  /**
   * The stream ordering of the user's most recent join (a timeline
   * m.room.member event with membership join) to each of `roomIds`; rooms
   * they never joined are absent. History visibility's "shared" rule asks
   * whether the user joined at any point after an event.
   */
  async lastJoins(userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await queryInChunks(roomIds, (chunk) =>
      this.db.query<{ room_id: string; pos: number }>(
        `SELECT room_id, MAX(stream_ordering) AS pos FROM events
         WHERE room_id IN (${placeholders(chunk.length)}) AND type = 'm.room.member' AND state_key = ? AND membership = 'join' AND ${timeline()}
         GROUP BY room_id`,
        [...chunk, userId],
      ),
    );
    return new Map(rows.map((r) => [r.room_id, Number(r.pos)]));
  }

  /** The room's last timeline event at or before stream position `position` (the state at a pagination token). */
  async getLastEventAtOrBefore(roomId: string, position: number): Promise<StoredEvent | undefined> {
    const row = await this.db.queryOne<EventRow>(
      `${SELECT_EVENT} WHERE room_id = ? AND stream_ordering <= ? AND ${timeline()} ORDER BY stream_ordering DESC LIMIT 1`,
      [roomId, position],
    );
    return row && eventFromRow(row);
  }

  /**
   * The room's timeline event closest to `ts` (origin_server_ts) in a
   * direction: the last at or before it ('backward'), or the first at or
   * after it ('forward'); ties go to stream order (timestamp_to_event).
   */
  async getEventNearTimestamp(roomId: string, ts: number, direction: StreamDirection): Promise<StoredEvent | undefined> {
    const forward = direction === 'forward';
    const row = await this.db.queryOne<EventRow>(
      `${SELECT_EVENT} WHERE room_id = ? AND origin_server_ts ${forward ? '>=' : '<='} ? AND ${timeline()}
       ORDER BY origin_server_ts ${forward ? 'ASC' : 'DESC'}, stream_ordering ${forward ? 'ASC' : 'DESC'} LIMIT 1`,
      [roomId, ts],
    );
    return row && eventFromRow(row);
  }

  private async knownEvents(tx: Queryable, eventIds: readonly string[]): Promise<Map<string, KnownEvent>> {
    const rows = await queryInChunks([...new Set(eventIds)], (chunk) =>
      tx.query<KnownEvent>(
        `SELECT event_id, stream_ordering, outlier FROM events WHERE event_id IN (${placeholders(chunk.length)})`,
        chunk,
      ),
    );
    return new Map(rows.map((r) => [r.event_id, { ...r, outlier: Number(r.outlier) }]));
  }

  private async txnResult(q: Queryable, txn: TxnKey): Promise<PersistedEvent | undefined> {
    const row = await q.queryOne<{ event_id: string; stream_ordering: number }>(
      `SELECT t.event_id, e.stream_ordering FROM event_txn_ids t JOIN events e ON e.event_id = t.event_id
       WHERE t.user_id = ? AND t.device_id = ? AND t.scope = ? AND t.txn_id = ?`,
      [txn.userId, txn.deviceId, txn.scope, txn.txnId],
    );
    return row && { eventId: row.event_id, streamOrdering: Number(row.stream_ordering), existing: true };
  }
}

/**
 * Moves the backfill counter down by `count` and returns its new value, the
 * lowest of the positions reserved (the batch's oldest event takes it).
 */
async function reserveBackfillPositions(tx: Queryable, count: number): Promise<number> {
  const row = await tx.queryOne<{ position: number }>(
    'UPDATE event_backfill_position SET position = position - ? WHERE id = 1 RETURNING position',
    [count],
  );
  if (!row) throw new Error('event_backfill_position has no row; the backfill migration did not run completely');
  return Number(row.position);
}

/**
 * Moves the events stream's counter on by `count` and returns its new value,
 * holding the row lock for the rest of the transaction: on PostgreSQL a
 * concurrent persist blocks here until this one commits (SQLite's single
 * writer serialises anyway), so positions are handed out in commit order.
 */
async function reserveStreamPositions(tx: Queryable, count: number): Promise<number> {
  const row = await tx.queryOne<{ position: number }>(
    'UPDATE event_stream_position SET position = position + ? WHERE id = 1 RETURNING position',
    [count],
  );
  if (!row) throw new Error('event_stream_position has no row; the rooms migration did not run completely');
  return Number(row.position);
}

function eventRowValues(item: EventToPersist, position: number): SqlValue[] {
  const { event } = item;
  return [
    position,
    event.event_id,
    event.room_id,
    event.type,
    event.state_key ?? null,
    event.sender,
    event.depth,
    event.origin_server_ts,
    membershipOf(event),
    item.outlier ? 1 : 0,
    item.rejectedReason ?? null,
    item.softFailed ? 1 : 0,
    item.stateSnapshotBefore ?? null,
    item.replacesState ?? null,
    item.json,
  ];
}

async function insertEvents(tx: Queryable, items: readonly [EventToPersist, number][]): Promise<void> {
  await insertRows(
    tx,
    'events',
    EVENT_INSERT_COLUMNS,
    items.map(([item, position]) => eventRowValues(item, position)),
  );
}

/** An outlier now joins the timeline: it moves to a new stream position so sync picks it up. */
async function promoteOutlier(tx: Queryable, item: EventToPersist, position: number): Promise<void> {
  await tx.execute(
    `UPDATE events SET stream_ordering = ?, outlier = 0, rejected_reason = ?, soft_failed = ?, state_snapshot_before = ?
     WHERE event_id = ?`,
    [position, item.rejectedReason ?? null, item.softFailed ? 1 : 0, item.stateSnapshotBefore ?? null, item.event.event_id],
  );
}

async function insertEdges(tx: Queryable, items: readonly EventToPersist[]): Promise<void> {
  const prevEdges: string[][] = [];
  const authEdges: string[][] = [];
  for (const { event } of items) {
    for (const prev of new Set(referencedEventIds(event.prev_events))) prevEdges.push([event.event_id, prev]);
    for (const auth of new Set(referencedEventIds(event.auth_events))) authEdges.push([event.event_id, auth]);
  }
  await insertRows(tx, 'event_edges', ['event_id', 'prev_event_id'], prevEdges, 'ON CONFLICT DO NOTHING');
  await insertRows(tx, 'event_auth_edges', ['event_id', 'auth_event_id'], authEdges, 'ON CONFLICT DO NOTHING');
}

async function insertTxnIds(tx: Queryable, items: readonly EventToPersist[]): Promise<void> {
  const rows = items.flatMap(({ event, txn }) => (txn ? [[txn.userId, txn.deviceId, txn.scope, txn.txnId, event.event_id]] : []));
  await insertRows(tx, 'event_txn_ids', ['user_id', 'device_id', 'scope', 'txn_id', 'event_id'], rows);
}

/**
 * New timeline events replace their prev_events as forward extremities, and
 * become extremities themselves unless a stored timeline event already names
 * them as a prev_event (they arrived after their children, which only
 * federation can make happen: `mayHaveChildren`). Edges must be inserted first.
 */
async function updateForwardExtremities(tx: Queryable, items: readonly EventToPersist[], mayHaveChildren: boolean): Promise<void> {
  if (items.length === 0) return;
  const ids = items.map((i) => i.event.event_id);
  const withChildren = new Set(
    (
      await queryInChunks(mayHaveChildren ? ids : [], (chunk) =>
        tx.query<{ prev_event_id: string }>(
          `SELECT DISTINCT g.prev_event_id FROM event_edges g JOIN events e ON e.event_id = g.event_id
           WHERE g.prev_event_id IN (${placeholders(chunk.length)}) AND ${timeline('e.')}`,
          chunk,
        ),
      )
    ).map((r) => r.prev_event_id),
  );
  const byRoom = new Map<string, EventToPersist[]>();
  for (const item of items) {
    const roomItems = byRoom.get(item.event.room_id);
    if (roomItems) roomItems.push(item);
    else byRoom.set(item.event.room_id, [item]);
  }
  for (const [roomId, roomItems] of byRoom) {
    const prevs = [...new Set(roomItems.flatMap((i) => referencedEventIds(i.event.prev_events)))];
    // The common send: one new event on the room's one extremity takes its place.
    if (roomItems.length === 1 && prevs.length === 1 && !withChildren.has(roomItems[0]!.event.event_id)) {
      const { changes } = await tx.execute('UPDATE forward_extremities SET event_id = ? WHERE room_id = ? AND event_id = ?', [
        roomItems[0]!.event.event_id,
        roomId,
        prevs[0]!,
      ]);
      if (changes === 1) continue;
    }
    for (const chunk of chunks(prevs, chunkSizeFor(1))) {
      await tx.execute(`DELETE FROM forward_extremities WHERE room_id = ? AND event_id IN (${placeholders(chunk.length)})`, [
        roomId,
        ...chunk,
      ]);
    }
    // An event of the batch that a later one builds on (createRoom's chain) is no extremity either.
    const prevSet = new Set(prevs);
    const fresh = roomItems.map((i) => i.event.event_id).filter((id) => !withChildren.has(id) && !prevSet.has(id));
    await insertRows(tx, 'forward_extremities', ['room_id', 'event_id'], fresh.map((id) => [roomId, id]), 'ON CONFLICT DO NOTHING');
  }
}
