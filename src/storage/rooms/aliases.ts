// Room aliases (#alias:server → room ID), with the servers to try when joining
// through them (client-server-api "Room aliases").
import type { Database } from '../database.js';

export interface RoomAlias {
  alias: string;
  roomId: string;
  /** The user who created the alias; they may delete it again. */
  creator: string;
  servers: string[];
  createdTs: number;
}

interface AliasRow {
  alias: string;
  room_id: string;
  creator: string;
  servers: string;
  created_ts: number;
}

function toAlias(row: AliasRow): RoomAlias {
  return {
    alias: row.alias,
    roomId: row.room_id,
    creator: row.creator,
    servers: JSON.parse(row.servers) as string[],
    createdTs: Number(row.created_ts),
  };
}

export class AliasStore {
  constructor(private readonly db: Database) {}

  /** Creates the alias; false if it already exists (the spec's 409 M_ROOM_IN_USE case). */
  async createAlias(alias: RoomAlias): Promise<boolean> {
    const { changes } = await this.db.execute(
      `INSERT INTO room_aliases (alias, room_id, creator, servers, created_ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (alias) DO NOTHING`,
      [alias.alias, alias.roomId, alias.creator, JSON.stringify(alias.servers), alias.createdTs],
    );
    return changes > 0;
  }

  async getAlias(alias: string): Promise<RoomAlias | undefined> {
    const row = await this.db.queryOne<AliasRow>(
      'SELECT alias, room_id, creator, servers, created_ts FROM room_aliases WHERE alias = ?',
      [alias],
    );
    return row && toAlias(row);
  }

  /** Deletes the alias; false if it did not exist. */
  async deleteAlias(alias: string): Promise<boolean> {
    const { changes } = await this.db.execute('DELETE FROM room_aliases WHERE alias = ?', [alias]);
    return changes > 0;
  }

  /** Points every alias of one room at another (an admin's room deletion with a replacement room); returns them. */
  async moveAliases(fromRoomId: string, toRoomId: string): Promise<string[]> {
    return this.db.transaction(async () => {
      const aliases = await this.aliasesForRoom(fromRoomId);
      await this.db.execute('UPDATE room_aliases SET room_id = ? WHERE room_id = ?', [toRoomId, fromRoomId]);
      return aliases;
    });
  }

  /** The room's aliases, sorted. */
  async aliasesForRoom(roomId: string): Promise<string[]> {
    const rows = await this.db.query<{ alias: string }>('SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias', [
      roomId,
    ]);
    return rows.map((r) => r.alias);
  }
}
