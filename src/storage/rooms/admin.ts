// What the room admin API reads (Synapse docs, admin_api/rooms.md): every
// room with the facts an operator sorts and filters by — name, alias, member
// counts, join rules — computed from current state in one query, and the
// rooms an admin blocked.
import type { Database } from '../database.js';
import { flag, likeContaining } from './sql.js';

/** A room as the admin API lists it. */
export interface AdminRoomEntry {
  roomId: string;
  name: string | null;
  canonicalAlias: string | null;
  joinedMembers: number;
  joinedLocalMembers: number;
  version: string;
  creator: string;
  encryption: string | null;
  federatable: boolean;
  public: boolean;
  joinRules: string | null;
  guestAccess: string | null;
  historyVisibility: string | null;
  stateEvents: number;
  roomType: string | null;
  topic: string | null;
  avatar: string | null;
}

/** Synapse's order_by values for the room list, and the column each sorts by. */
export const ROOM_ORDER_COLUMNS = {
  name: 'name',
  alphabetical: 'name',
  size: 'joined_members',
  canonical_alias: 'canonical_alias',
  joined_members: 'joined_members',
  joined_local_members: 'joined_local_members',
  version: 'version',
  creator: 'creator',
  encryption: 'encryption',
  federatable: 'federatable',
  public: 'public',
  join_rules: 'join_rules',
  guest_access: 'guest_access',
  history_visibility: 'history_visibility',
  state_events: 'state_events',
} as const;

export type RoomOrder = keyof typeof ROOM_ORDER_COLUMNS;

export interface RoomListQuery {
  from: number;
  limit: number;
  orderBy: RoomOrder;
  direction: 'f' | 'b';
  /** Part of the name or canonical alias, or the whole room ID. */
  searchTerm?: string;
  /** true: only rooms in the public directory; false: only the others. */
  publicRooms?: boolean;
  /** true: only rooms no local user is joined to; false: only the others. */
  emptyRooms?: boolean;
}

interface AdminRoomRow {
  room_id: string;
  name: string | null;
  canonical_alias: string | null;
  joined_members: number;
  joined_local_members: number;
  version: string;
  creator: string;
  encryption: string | null;
  federatable: number;
  public: number;
  join_rules: string | null;
  guest_access: string | null;
  history_visibility: string | null;
  state_events: number;
  room_type: string | null;
  topic: string | null;
  avatar: string | null;
}

export class RoomAdminStore {
  private readonly roomsSelect: string;

  constructor(private readonly db: Database) {
    this.roomsSelect = roomsSelect(db);
  }

  /** One page of rooms and how many match in all. */
  async list(query: RoomListQuery): Promise<{ rooms: AdminRoomEntry[]; total: number }> {
    const { where, params } = roomFilter(query);
    const rooms = `(${this.roomsSelect}) listed`;
    const total = await this.db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM ${rooms} ${where}`, params);
    const column = ROOM_ORDER_COLUMNS[query.orderBy];
    const dir = query.direction === 'b' ? 'DESC' : 'ASC';
    const rows = await this.db.query<AdminRoomRow>(
      `SELECT * FROM ${rooms} ${where}
       ORDER BY CASE WHEN ${column} IS NULL THEN 0 ELSE 1 END ${dir}, ${column} ${dir}, room_id ${dir}
       LIMIT ? OFFSET ?`,
      [...params, query.limit, query.from],
    );
    return { rooms: rows.map(toEntry), total: Number(total?.n ?? 0) };
  }

  async get(roomId: string): Promise<AdminRoomEntry | undefined> {
    const row = await this.db.queryOne<AdminRoomRow>(`SELECT * FROM (${this.roomsSelect}) listed WHERE room_id = ?`, [roomId]);
    return row && toEntry(row);
  }

  /**
   * The JSON of the room's events that mention a content URI anywhere — a
   * cheap text filter; the caller reads the fields that really hold media.
   */
  async eventsMentioningMedia(roomId: string): Promise<string[]> {
    const rows = await this.db.query<{ json: string }>("SELECT json FROM events WHERE room_id = ? AND json LIKE '%mxc://%'", [roomId]);
    return rows.map((r) => r.json);
  }

  /** Who blocked the room, or undefined when it is not blocked. */
  async blockedBy(roomId: string): Promise<string | undefined> {
    const row = await this.db.queryOne<{ user_id: string }>('SELECT user_id FROM blocked_rooms WHERE room_id = ?', [roomId]);
    return row?.user_id;
  }

  async block(roomId: string, adminUserId: string): Promise<void> {
    await this.db.execute('INSERT INTO blocked_rooms (room_id, user_id) VALUES (?, ?) ON CONFLICT (room_id) DO NOTHING', [roomId, adminUserId]);
  }

  async unblock(roomId: string): Promise<void> {
    await this.db.execute('DELETE FROM blocked_rooms WHERE room_id = ?', [roomId]);
  }
}

/**
 * A field of an event's content as text. Event JSON is read in SQL only
 * here, so that rooms can be sorted and filtered by their state without
 * loading every room; the two engines spell JSON access differently.
 */
function contentField(db: Database, column: string, field: string): string {
  return db.engine === 'sqlite' ? `json_extract(${column}, '$.content."${field}"')` : `(${column}::json -> 'content' ->> '${field}')`;
}

/** A field of the content of one current state event (empty state key) of the room `r`. */
function stateField(db: Database, type: string, field: string): string {
  return `(SELECT ${contentField(db, 'e.json', field)} FROM current_state c JOIN events e ON e.event_id = c.event_id
    WHERE c.room_id = r.room_id AND c.type = '${type}' AND c.state_key = '')`;
}

function roomsSelect(db: Database): string {
  const joined = "SELECT COUNT(*) FROM room_memberships m WHERE m.room_id = r.room_id AND m.membership = 'join'";
  // m.federate is a JSON boolean: SQLite reads false as 0, PostgreSQL as 'false'; absent means true.
  const federate = stateField(db, 'm.room.create', 'm.federate');
  return `SELECT r.room_id, r.room_version AS version, r.creator, r.is_public AS public,
      ${stateField(db, 'm.room.name', 'name')} AS name,
      ${stateField(db, 'm.room.canonical_alias', 'alias')} AS canonical_alias,
      (${joined}) AS joined_members,
      (${joined} AND EXISTS (SELECT 1 FROM users u WHERE u.user_id = m.user_id)) AS joined_local_members,
      ${stateField(db, 'm.room.encryption', 'algorithm')} AS encryption,
      CASE WHEN CAST(${federate} AS TEXT) IN ('false', '0') THEN 0 ELSE 1 END AS federatable,
      ${stateField(db, 'm.room.join_rules', 'join_rule')} AS join_rules,
      ${stateField(db, 'm.room.guest_access', 'guest_access')} AS guest_access,
      ${stateField(db, 'm.room.history_visibility', 'history_visibility')} AS history_visibility,
      (SELECT COUNT(*) FROM current_state s WHERE s.room_id = r.room_id) AS state_events,
      ${stateField(db, 'm.room.create', 'type')} AS room_type,
      ${stateField(db, 'm.room.topic', 'topic')} AS topic,
      ${stateField(db, 'm.room.avatar', 'url')} AS avatar
    FROM rooms r`;
}

function roomFilter(query: RoomListQuery): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (query.searchTerm !== undefined) {
    clauses.push("(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(canonical_alias) LIKE ? ESCAPE '\\' OR room_id = ?)");
    params.push(likeContaining(query.searchTerm), likeContaining(query.searchTerm), query.searchTerm);
  }
  if (query.publicRooms !== undefined) {
    clauses.push('public = ?');
    params.push(query.publicRooms ? 1 : 0);
  }
  if (query.emptyRooms !== undefined) clauses.push(query.emptyRooms ? 'joined_local_members = 0' : 'joined_local_members > 0');
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

function toEntry(row: AdminRoomRow): AdminRoomEntry {
  return {
    roomId: row.room_id,
    name: row.name,
    canonicalAlias: row.canonical_alias,
    joinedMembers: Number(row.joined_members),
    joinedLocalMembers: Number(row.joined_local_members),
    version: row.version,
    creator: row.creator,
    encryption: row.encryption,
    federatable: flag(row.federatable),
    public: flag(row.public),
    joinRules: row.join_rules,
    guestAccess: row.guest_access,
    historyVisibility: row.history_visibility,
    stateEvents: Number(row.state_events),
    roomType: row.room_type,
    topic: row.topic,
    avatar: row.avatar,
  };
}
