// Current membership per (room, user), kept in step with current state. Indexed
// by room (members of a room) and by user (the rooms /sync walks). Every /sync
// pass reads the user's whole list, so lists are cached per user; a
// membership change or a forget invalidates the users it touches.
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database, Queryable } from '../database.js';
import { parseStateKeyString, type JsonObject } from '../../core/types.js';
import { insertRows, placeholders, queryInChunks } from './sql.js';

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export interface RoomMembership {
  roomId: string;
  userId: string;
  membership: Membership;
  /** The m.room.member event that set it. */
  eventId: string;
  /** That event's position in the events stream. */
  streamOrdering: number;
  /** The user forgot this left room: it no longer appears in their /sync. */
  forgotten: boolean;
}

interface MembershipRow {
  room_id: string;
  user_id: string;
  membership: Membership;
  event_id: string;
  stream_ordering: number;
  forgotten: number;
}

const COLUMNS = 'room_id, user_id, membership, event_id, stream_ordering, forgotten';

function toMembership(row: MembershipRow): RoomMembership {
  return {
    roomId: row.room_id,
    userId: row.user_id,
    membership: row.membership,
    eventId: row.event_id,
    streamOrdering: Number(row.stream_ordering),
    forgotten: Number(row.forgotten) === 1,
  };
}

/** Users whose room lists stay cached (the active ones; past it the cache starts over). */
const CACHED_USERS = 10_000;

export class MembershipStore {
  private readonly byUser: CommitConsistentCache<readonly RoomMembership[]>;

  constructor(private readonly db: Database) {
    this.byUser = new CommitConsistentCache(db, CACHED_USERS);
  }

  /** The user's rooms by room ID, optionally only those with one of `memberships`. */
  async roomsForUser(userId: string, memberships?: readonly Membership[]): Promise<RoomMembership[]> {
    const all = (await this.byUser.get(userId, () => this.readRoomsForUser(userId)))!;
    return memberships ? all.filter((m) => memberships.includes(m.membership)) : [...all];
  }

  private async readRoomsForUser(userId: string): Promise<readonly RoomMembership[]> {
    const rows = await this.db.query<MembershipRow>(`SELECT ${COLUMNS} FROM room_memberships WHERE user_id = ? ORDER BY room_id`, [userId]);
    return rows.map((row) => Object.freeze(toMembership(row)));
  }

  /** Drops the cached room lists of these users, after their rows changed outside `applyStateChange` (a purged room). */
  forgetCachedRooms(userIds: readonly string[]): void {
    const stale = new Set(userIds);
    this.byUser.invalidate((userId) => stale.has(userId));
  }

  /** The room's members, optionally only those with `membership`. */
  async membersOfRoom(roomId: string, membership?: Membership): Promise<RoomMembership[]> {
    const rows = await this.db.query<MembershipRow>(
      `SELECT ${COLUMNS} FROM room_memberships WHERE room_id = ?${membership ? ' AND membership = ?' : ''} ORDER BY user_id`,
      membership ? [roomId, membership] : [roomId],
    );
    return rows.map(toMembership);
  }

  /**
   * Everyone (the user included) joined to a room the user is joined to:
   * whose presence /sync sends. With `exceptRoomId`, through rooms other
   * than that one (who shared a room with the user before they joined it).
   */
  async usersSharingRoomsWith(userId: string, exceptRoomId?: string): Promise<string[]> {
    const except = exceptRoomId === undefined ? '' : ' AND mine.room_id <> ?';
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT DISTINCT other.user_id FROM room_memberships mine
       JOIN room_memberships other ON other.room_id = mine.room_id
       WHERE mine.user_id = ? AND mine.membership = 'join' AND other.membership = 'join'${except}
       ORDER BY other.user_id`,
      exceptRoomId === undefined ? [userId] : [userId, exceptRoomId],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * Users whose join event in a room `userId` is joined to lies in the
   * stream range (after, upTo]: the members an incremental /sync reports as
   * having joined the user's rooms.
   */
  async usersJoinedBetween(userId: string, after: number, upTo: number): Promise<string[]> {
    if (upTo <= after) return [];
    // Reads only the events of the range (stream_ordering is the key), not every member of every room.
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT DISTINCT e.state_key AS user_id FROM events e
       WHERE e.stream_ordering > ? AND e.stream_ordering <= ? AND e.type = 'm.room.member' AND e.membership = 'join'
         AND e.outlier = 0 AND e.rejected_reason IS NULL AND e.soft_failed = 0
         AND e.room_id IN (SELECT room_id FROM room_memberships WHERE user_id = ? AND membership = 'join')
       ORDER BY e.state_key`,
      [after, upTo, userId],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * The rooms where a user of `serverName` is joined (the rooms that server
   * takes part in), each with the room's newest stream position, by room ID.
   * `serverName` must be a valid server name: the grammar leaves LIKE's
   * wildcards out of it.
   */
  async roomsWithJoinedServer(serverName: string): Promise<Array<{ roomId: string; streamOrdering: number }>> {
    const rows = await this.db.query<{ room_id: string; stream_ordering: number | null }>(
      `SELECT m.room_id, (SELECT MAX(e.stream_ordering) FROM events e WHERE e.room_id = m.room_id) AS stream_ordering
       FROM room_memberships m WHERE m.membership = 'join' AND m.user_id LIKE ?
       GROUP BY m.room_id ORDER BY m.room_id`,
      [`%:${serverName}`],
    );
    return rows.map((r) => ({ roomId: r.room_id, streamOrdering: Number(r.stream_ordering ?? 0) }));
  }

  /** Marks a left or banned room as forgotten; false if the user is still joined, invited or knocking. */
  async forget(roomId: string, userId: string): Promise<boolean> {
    const { changes } = await this.db.execute(
      `UPDATE room_memberships SET forgotten = 1 WHERE room_id = ? AND user_id = ? AND membership IN ('leave', 'ban')`,
      [roomId, userId],
    );
    this.byUser.invalidate((key) => key === userId);
    return changes > 0;
  }

  async getMembership(roomId: string, userId: string): Promise<RoomMembership | undefined> {
    const row = await this.db.queryOne<MembershipRow>(
      `SELECT ${COLUMNS} FROM room_memberships WHERE room_id = ? AND user_id = ?`,
      [roomId, userId],
    );
    return row && toMembership(row);
  }

  /**
   * Sets a local user's membership of a room this server is not in (a
   * remote invite, a knock, or the rejection of either), inside the caller's
   * transaction, with the stripped state the user may see of the room, if
   * given; a membership without one keeps none.
   */
  async setOutOfRoomMembership(
    tx: Queryable,
    m: { roomId: string; userId: string; membership: Membership; eventId: string; streamOrdering: number },
    strippedState: readonly JsonObject[] | undefined,
  ): Promise<void> {
    await insertRows(
      tx,
      'room_memberships',
      ['room_id', 'user_id', 'membership', 'event_id', 'stream_ordering', 'forgotten'],
      [[m.roomId, m.userId, m.membership, m.eventId, m.streamOrdering, 0]],
      'ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id, stream_ordering = excluded.stream_ordering, forgotten = 0',
    );
    await tx.execute('DELETE FROM room_stripped_states WHERE room_id = ? AND user_id = ?', [m.roomId, m.userId]);
    if (strippedState) {
      await tx.execute('INSERT INTO room_stripped_states (room_id, user_id, stripped_state) VALUES (?, ?, ?)', [m.roomId, m.userId, JSON.stringify(strippedState)]);
    }
    this.byUser.invalidate((userId) => userId === m.userId);
  }

  /** The stripped state kept with the user's invite to or knock on each room this server is not in. */
  async strippedStates(userId: string, roomIds: readonly string[]): Promise<Map<string, JsonObject[]>> {
    const rows = await queryInChunks([...roomIds], (chunk) =>
      this.db.query<{ room_id: string; stripped_state: string }>(
        `SELECT room_id, stripped_state FROM room_stripped_states WHERE user_id = ? AND room_id IN (${placeholders(chunk.length)})`,
        [userId, ...chunk],
      ),
    );
    return new Map(rows.map((r) => [r.room_id, JSON.parse(r.stripped_state) as JsonObject[]]));
  }

  /**
   * Brings room_memberships in line with a change to a room's current state:
   * `changed` maps state keys to their new events, `removed` lists keys gone.
   * Only m.room.member keys matter; their membership is read from the events.
   */
  async applyStateChange(tx: Queryable, roomId: string, changed: ReadonlyMap<string, string>, removed: readonly string[]): Promise<void> {
    const memberEvents = new Map<string, string>();
    const touched = new Set<string>();
    for (const [key, eventId] of changed) {
      const [type, userId] = parseStateKeyString(key);
      if (type !== 'm.room.member') continue;
      memberEvents.set(eventId, userId);
      touched.add(userId);
    }
    for (const key of removed) {
      const [type, userId] = parseStateKeyString(key);
      if (type !== 'm.room.member') continue;
      await tx.execute('DELETE FROM room_memberships WHERE room_id = ? AND user_id = ?', [roomId, userId]);
      touched.add(userId);
    }
    if (touched.size > 0) this.byUser.invalidate((userId) => touched.has(userId));
    if (memberEvents.size === 0) return;

    const events = await queryInChunks([...memberEvents.keys()], (chunk) =>
      tx.query<{ event_id: string; membership: string | null; stream_ordering: number }>(
        `SELECT event_id, membership, stream_ordering FROM events WHERE event_id IN (${placeholders(chunk.length)})`,
        chunk,
      ),
    );
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const rows = [...memberEvents].map(([eventId, userId]) => {
      const event = byId.get(eventId);
      if (!event?.membership) {
        throw new Error(
          `cannot set ${userId}'s membership in ${roomId} from ${eventId}: ` +
            (event ? 'the event has no content.membership' : 'the event is not stored; persist it first'),
        );
      }
      return [roomId, userId, event.membership, eventId, Number(event.stream_ordering)];
    });
    await insertRows(
      tx,
      'room_memberships',
      ['room_id', 'user_id', 'membership', 'event_id', 'stream_ordering'],
      rows,
      `ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership,
         event_id = excluded.event_id, stream_ordering = excluded.stream_ordering, forgotten = 0`,
    );
  }
}
