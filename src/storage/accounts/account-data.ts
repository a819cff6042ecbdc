// Per-user account data, global and per room. Every write takes the next
// position of the account data stream, so /sync can ask for "changes after N".
// Global values are cached (absence too): every /sync pass reads the user's
// m.ignored_user_list.
import type { JsonObject } from '../../core/types.js';
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database } from '../database.js';

/** Global (user, type) values kept cached; past it the cache starts over. */
const CACHED_GLOBALS = 20_000;

/** Global account data is stored under this room ID, which no real room can have. */
const GLOBAL = '';

export interface AccountDataChange {
  /** null for global account data. */
  roomId: string | null;
  type: string;
  content: JsonObject;
  streamId: number;
}

interface DataRow {
  room_id: string;
  type: string;
  content: string;
  stream_id: number;
}

export class AccountDataStore {
  private readonly globals: CommitConsistentCache<{ content: JsonObject | undefined }>;

  constructor(private readonly db: Database) {
    this.globals = new CommitConsistentCache(db, CACHED_GLOBALS);
  }

  /** Sets global account data; returns the stream position of the write. */
  setGlobal(userId: string, type: string, content: JsonObject): Promise<number> {
    return this.write(userId, GLOBAL, type, content);
  }

  /** Sets account data for one room; returns the stream position of the write. */
  setRoom(userId: string, roomId: string, type: string, content: JsonObject): Promise<number> {
    if (roomId === GLOBAL) throw new Error('room account data needs a room ID');
    return this.write(userId, roomId, type, content);
  }

  async getGlobal(userId: string, type: string): Promise<JsonObject | undefined> {
    const cached = await this.globals.get(globalKey(userId, type), async () => ({ content: await this.read(userId, GLOBAL, type) }));
    return cached!.content;
  }

  getRoom(userId: string, roomId: string, type: string): Promise<JsonObject | undefined> {
    return this.read(userId, roomId, type);
  }

  /** All global account data of the user, by type (for an initial sync). */
  async listGlobal(userId: string): Promise<Record<string, JsonObject>> {
    const rows = await this.db.query<DataRow>('SELECT type, content FROM account_data WHERE user_id = ? AND room_id = ?', [
      userId,
      GLOBAL,
    ]);
    return Object.fromEntries(rows.map((r) => [r.type, parse(r.content)]));
  }

  /** All per-room account data of the user: room ID → type → content. */
  async listRooms(userId: string): Promise<Map<string, Record<string, JsonObject>>> {
    const rows = await this.db.query<DataRow>(
      'SELECT room_id, type, content FROM account_data WHERE user_id = ? AND room_id <> ? ORDER BY room_id',
      [userId, GLOBAL],
    );
    const byRoom = new Map<string, Record<string, JsonObject>>();
    for (const row of rows) {
      const room = byRoom.get(row.room_id) ?? {};
      room[row.type] = parse(row.content);
      byRoom.set(row.room_id, room);
    }
    return byRoom;
  }

  /**
   * The user's account data written after `fromExclusive` and at or before
   * `toInclusive` (default: now), oldest first. Only the latest value of each
   * (room, type) exists, which is what an incremental sync needs.
   */
  async changesSince(userId: string, fromExclusive: number, toInclusive?: number): Promise<AccountDataChange[]> {
    const upper = toInclusive ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.db.query<DataRow>(
      `SELECT room_id, type, content, stream_id FROM account_data
       WHERE user_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id`,
      [userId, fromExclusive, upper],
    );
    return rows.map((r) => ({
      roomId: r.room_id === GLOBAL ? null : r.room_id,
      type: r.type,
      content: parse(r.content),
      streamId: Number(r.stream_id),
    }));
  }

  /** The position of the latest write (0 before any). */
  async currentStreamId(): Promise<number> {
    const row = await this.db.queryOne<{ value: number }>("SELECT value FROM account_counters WHERE name = 'account_data_stream'");
    return Number(row?.value ?? 0);
  }

  private async write(userId: string, roomId: string, type: string, content: JsonObject): Promise<number> {
    return this.db.transaction(async (tx) => {
      // The counter row stays locked until commit, so a reader never sees
      // position N+1 committed while N is still in flight.
      const next = await tx.queryOne<{ value: number }>(
        "UPDATE account_counters SET value = value + 1 WHERE name = 'account_data_stream' RETURNING value",
      );
      if (!next) throw new Error("account_counters has no 'account_data_stream' row; migration 0001 did not run completely");
      const streamId = Number(next.value);
      await tx.execute(
        `INSERT INTO account_data (user_id, room_id, type, content, stream_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_id = excluded.stream_id`,
        [userId, roomId, type, JSON.stringify(content), streamId],
      );
      if (roomId === GLOBAL) {
        const key = globalKey(userId, type);
        this.globals.invalidate((cached) => cached === key);
      }
      return streamId;
    });
  }

  private async read(userId: string, roomId: string, type: string): Promise<JsonObject | undefined> {
    const row = await this.db.queryOne<{ content: string }>(
      'SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?',
      [userId, roomId, type],
    );
    return row && parse(row.content);
  }
}

function globalKey(userId: string, type: string): string {
  return `${userId}\u0000${type}`;
}

function parse(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}
