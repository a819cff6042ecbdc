// Each room's current state, kept as plain rows for fast reads (initial sync,
// auth checks of new local events) instead of being rebuilt from snapshots.
import type { Database, Queryable } from '../database.js';
import { parseStateKeyString, stateKeyString, type StateMap } from '../../core/types.js';
import type { MembershipStore } from './memberships.js';
import { diffStates, type SnapshotId, type StateDelta, type StateSnapshotStore } from './state.js';
import { eventFromRow, EVENT_COLUMNS, type EventRow, type StoredEvent } from './event-rows.js';
import { insertRows, placeholders, queryInChunks } from './sql.js';

/** A new current state: the whole state, a saved snapshot of it, or a delta. */
export type CurrentStateUpdate = { state: StateMap } | { snapshotId: SnapshotId } | { delta: StateDelta };

export interface StateFilter {
  /** Only these event types. */
  types?: readonly string[];
}

function filterSql(filter: StateFilter | undefined, alias: string): { sql: string; params: string[] } {
  if (!filter?.types) return { sql: '', params: [] };
  if (filter.types.length === 0) return { sql: ' AND 1 = 0', params: [] };
  return { sql: ` AND ${alias}type IN (${placeholders(filter.types.length)})`, params: [...filter.types] };
}

export class CurrentStateStore {
  constructor(
    private readonly db: Database,
    private readonly snapshots: StateSnapshotStore,
    private readonly memberships: MembershipStore,
  ) {}

  /** Replaces the room's current state (and memberships) in one transaction; returns what changed. */
  async setCurrentState(roomId: string, update: CurrentStateUpdate): Promise<StateDelta> {
    return this.db.transaction((tx) => this.applyUpdate(tx, roomId, update));
  }

  /** Current state as type/state_key → event ID. */
  async getCurrentState(roomId: string, filter?: StateFilter): Promise<StateMap> {
    const where = filterSql(filter, '');
    const rows = await this.db.query<{ type: string; state_key: string; event_id: string }>(
      `SELECT type, state_key, event_id FROM current_state WHERE room_id = ?${where.sql}`,
      [roomId, ...where.params],
    );
    return new Map(rows.map((r) => [stateKeyString(r.type, r.state_key), r.event_id]));
  }

  /** The current state events themselves, in one query. */
  async getCurrentStateEvents(roomId: string, filter?: StateFilter): Promise<StoredEvent[]> {
    const where = filterSql(filter, 'c.');
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS.map((c) => `e.${c}`).join(', ')}
       FROM current_state c JOIN events e ON e.event_id = c.event_id
       WHERE c.room_id = ?${where.sql} ORDER BY e.stream_ordering`,
      [roomId, ...where.params],
    );
    return rows.map(eventFromRow);
  }

  /** The current state events of many rooms, by room, in one query per chunk of rooms (initial /sync). */
  async getCurrentStateEventsForRooms(roomIds: readonly string[], filter?: StateFilter): Promise<Map<string, StoredEvent[]>> {
    const where = filterSql(filter, 'c.');
    const rows = await queryInChunks(roomIds, (chunk) =>
      this.db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS.map((c) => `e.${c}`).join(', ')}
         FROM current_state c JOIN events e ON e.event_id = c.event_id
         WHERE c.room_id IN (${placeholders(chunk.length)})${where.sql} ORDER BY e.stream_ordering`,
        [...chunk, ...where.params],
      ),
    );
    const byRoom = new Map<string, StoredEvent[]>(roomIds.map((id) => [id, []]));
    for (const event of rows.map(eventFromRow)) byRoom.get(event.roomId)?.push(event);
    return byRoom;
  }

  /** Which of these state events are part of their room's current state, looked up by their state keys. */
  async whichAreCurrent(events: readonly StoredEvent[]): Promise<Set<string>> {
    const state = events.filter((e) => e.stateKey !== null);
    const rows = await queryInChunks(
      state,
      (chunk) =>
        this.db.query<{ event_id: string }>(
          `SELECT event_id FROM current_state WHERE (room_id, type, state_key) IN (VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')})`,
          chunk.flatMap((e) => [e.roomId, e.type, e.stateKey!]),
        ),
      3,
    );
    const current = new Set(rows.map((r) => r.event_id));
    return new Set(state.filter((e) => current.has(e.eventId)).map((e) => e.eventId));
  }

  async getCurrentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined> {
    const row = await this.db.queryOne<EventRow>(
      `SELECT ${EVENT_COLUMNS.map((c) => `e.${c}`).join(', ')}
       FROM current_state c JOIN events e ON e.event_id = c.event_id
       WHERE c.room_id = ? AND c.type = ? AND c.state_key = ?`,
      [roomId, type, stateKey],
    );
    return row && eventFromRow(row);
  }

  /** Applies `update` inside the caller's transaction (persistEvents uses this). */
  async applyUpdate(tx: Queryable, roomId: string, update: CurrentStateUpdate): Promise<StateDelta> {
    const delta = 'delta' in update ? update.delta : diffStates(await this.getCurrentState(roomId), await this.resolve(update));
    for (const key of delta.removed) {
      const [type, stateKey] = parseStateKeyString(key);
      await tx.execute('DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', [roomId, type, stateKey]);
    }
    const rows = [...delta.changed].map(([key, eventId]) => [roomId, ...parseStateKeyString(key), eventId]);
    await insertRows(
      tx,
      'current_state',
      ['room_id', 'type', 'state_key', 'event_id'],
      rows,
      'ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id',
    );
    await this.memberships.applyStateChange(tx, roomId, delta.changed, delta.removed);
    return delta;
  }

  private async resolve(update: { state: StateMap } | { snapshotId: SnapshotId }): Promise<StateMap> {
    return 'state' in update ? update.state : this.snapshots.loadStateSnapshot(update.snapshotId);
  }
}
