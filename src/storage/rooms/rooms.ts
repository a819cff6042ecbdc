// One row per room this server knows: its version (which fixes the event
// format and auth rules), creator and room-directory visibility.
import type { Database } from '../database.js';
import { flag } from './sql.js';

export interface RoomRecord {
  roomId: string;
  roomVersion: string;
  creator: string;
  /** Listed in the public room directory. */
  isPublic: boolean;
  createdTs: number;
}

interface RoomRow {
  room_id: string;
  room_version: string;
  creator: string;
  is_public: number;
  created_ts: number;
}

const COLUMNS = 'room_id, room_version, creator, is_public, created_ts';

function toRecord(row: RoomRow): RoomRecord {
  return {
    roomId: row.room_id,
    roomVersion: row.room_version,
    creator: row.creator,
    isPublic: flag(row.is_public),
    createdTs: Number(row.created_ts),
  };
}

export class RoomsTable {
  constructor(private readonly db: Database) {}

  /** Records a room; false if a room with this ID is already stored (nothing changes). */
  async createRoom(room: RoomRecord): Promise<boolean> {
    const { changes } = await this.db.execute(
      `INSERT INTO rooms (${COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id) DO NOTHING`,
      [room.roomId, room.roomVersion, room.creator, room.isPublic ? 1 : 0, room.createdTs],
    );
    return changes > 0;
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const row = await this.db.queryOne<RoomRow>(`SELECT ${COLUMNS} FROM rooms WHERE room_id = ?`, [roomId]);
    return row && toRecord(row);
  }

  /** How many rooms this server knows. */
  async count(): Promise<number> {
    const row = await this.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM rooms');
    return Number(row?.n ?? 0);
  }

  /** Sets directory visibility; false if the room is unknown. */
  async setRoomPublic(roomId: string, isPublic: boolean): Promise<boolean> {
    const { changes } = await this.db.execute('UPDATE rooms SET is_public = ? WHERE room_id = ?', [isPublic ? 1 : 0, roomId]);
    return changes > 0;
  }

  /** Rooms in the public directory, oldest first. */
  async listPublicRooms(): Promise<RoomRecord[]> {
    const rows = await this.db.query<RoomRow>(
      `SELECT ${COLUMNS} FROM rooms WHERE is_public = 1 ORDER BY created_ts, room_id`,
    );
    return rows.map(toRecord);
  }
}
