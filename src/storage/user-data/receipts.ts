// Receipts (client-server-api/modules/receipts.md): the latest receipt per
// (room, receipt type, user, thread). Each accepted write takes the next
// position of the receipts stream, so /sync can ask for "changes after N".
import type { Database } from '../database.js';
import { placeholders, queryInChunks } from '../rooms/sql.js';
import { currentPosition, nextPosition } from './counters.js';

/** The thread of an unthreaded receipt, as stored (the spec's "no thread_id"). */
export const UNTHREADED = '';

export interface Receipt {
  roomId: string;
  receiptType: string;
  userId: string;
  /** A thread root's event ID, 'main', or undefined for an unthreaded receipt. */
  threadId: string | undefined;
  eventId: string;
  ts: number;
  streamId: number;
}

export interface ReceiptToStore {
  roomId: string;
  receiptType: string;
  userId: string;
  threadId: string | undefined;
  eventId: string;
  /** The event's position in the events stream: a receipt only moves forward. */
  eventStreamOrdering: number;
  ts: number;
}

interface ReceiptRow {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  ts: number;
  stream_id: number;
}

const COLUMNS = 'room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id';

function toReceipt(row: ReceiptRow): Receipt {
  return {
    roomId: row.room_id,
    receiptType: row.receipt_type,
    userId: row.user_id,
    threadId: row.thread_id === UNTHREADED ? undefined : row.thread_id,
    eventId: row.event_id,
    ts: Number(row.ts),
    streamId: Number(row.stream_id),
  };
}

/** Which receipts a reader may see: everyone's public ones, and only their own of these types. */
export interface ReceiptVisibility {
  forUser: string;
  privateTypes: readonly string[];
}

export class ReceiptStore {
  constructor(private readonly db: Database) {}

  /**
   * Stores a receipt unless the same (room, type, user, thread) already points
   * at the same or a later event. Returns the new stream position, or
   * undefined when nothing changed.
   */
  async upsert(receipt: ReceiptToStore): Promise<number | undefined> {
    const thread = receipt.threadId ?? UNTHREADED;
    return this.db.transaction(async (tx) => {
      const existing = await tx.queryOne<{ event_stream_ordering: number }>(
        'SELECT event_stream_ordering FROM receipts WHERE room_id = ? AND receipt_type = ? AND user_id = ? AND thread_id = ?',
        [receipt.roomId, receipt.receiptType, receipt.userId, thread],
      );
      if (existing && Number(existing.event_stream_ordering) >= receipt.eventStreamOrdering) return undefined;
      const streamId = await nextPosition(tx, 'receipts_stream');
      await tx.execute(
        `INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, event_stream_ordering, ts, stream_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET event_id = excluded.event_id,
           event_stream_ordering = excluded.event_stream_ordering, ts = excluded.ts, stream_id = excluded.stream_id`,
        [receipt.roomId, receipt.receiptType, receipt.userId, thread, receipt.eventId, receipt.eventStreamOrdering, receipt.ts, streamId],
      );
      return streamId;
    });
  }

  /** The user's receipt of one type in one thread (undefined: unthreaded). */
  async get(roomId: string, receiptType: string, userId: string, threadId?: string): Promise<Receipt | undefined> {
    const row = await this.db.queryOne<ReceiptRow>(
      `SELECT ${COLUMNS} FROM receipts WHERE room_id = ? AND receipt_type = ? AND user_id = ? AND thread_id = ?`,
      [roomId, receiptType, userId, threadId ?? UNTHREADED],
    );
    return row && toReceipt(row);
  }

  /**
   * Receipts in `roomIds` written after `fromExclusive` (0: all of them) and
   * at or before `toInclusive`, that `visibility.forUser` may see; oldest first.
   */
  async inRooms(roomIds: readonly string[], visibility: ReceiptVisibility, fromExclusive = 0, toInclusive = Number.MAX_SAFE_INTEGER): Promise<Receipt[]> {
    if (roomIds.length === 0) return [];
    const { forUser, privateTypes } = visibility;
    const hidden = privateTypes.length === 0 ? '' : ` AND (receipt_type NOT IN (${placeholders(privateTypes.length)}) OR user_id = ?)`;
    const rows = await queryInChunks([...roomIds], (chunk) =>
      this.db.query<ReceiptRow>(
        `SELECT ${COLUMNS} FROM receipts
         WHERE room_id IN (${placeholders(chunk.length)}) AND stream_id > ? AND stream_id <= ?${hidden}`,
        [...chunk, fromExclusive, toInclusive, ...(privateTypes.length === 0 ? [] : [...privateTypes, forUser])],
      ),
    );
    return rows.map(toReceipt).sort((a, b) => a.streamId - b.streamId);
  }

  /** The position of the latest write (0 before any). */
  currentStreamId(): Promise<number> {
    return currentPosition(this.db, 'receipts_stream');
  }
}
