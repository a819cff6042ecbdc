// Room timelines for /sync and sliding sync: each room's newest events in a
// window of the events stream that the user may be served (rooms/visibility.ts:
// history visibility, ignored users, erasure) and the client's filter keeps.
//
// One query reads the newest events of every room that shares a window, one
// visibility pass judges them all. Where that leaves a room short of its
// limit while older events remain (a user who joined a `joined` room, a
// busy ignored user, a narrow type filter), older events are read in a few
// more rounds, as Synapse's sync does, so the timeline is as full as the
// user may see rather than cut by what they may not.
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import type { HistoryVisibility } from '../rooms/visibility.js';

export interface TimelineWindow {
  roomId: string;
  /** Events after this stream position… */
  after: number;
  /** …up to and including this one. */
  upTo: number;
}

export interface Timeline {
  /** Oldest first. */
  events: StoredEvent[];
  /** The window holds events before the first of `events` that were not returned. */
  limited: boolean;
  /**
   * A membership changed in the part of the window that was read, shown or
   * not (a filter may leave member events out; the room summary still moves).
   */
  membersChanged: boolean;
}

/** Further reads of older events for a room whose timeline came out short. */
const REFILL_ROUNDS = 5;

export class TimelineReader {
  constructor(
    private readonly store: RoomStore,
    private readonly visibility: Pick<HistoryVisibility, 'filterVisible'>,
  ) {}

  /**
   * Each window's newest `limit` events that `userId` may be served and
   * `keep` keeps. Rooms whose window holds no events at all are absent, so
   * an incremental sync learns from the same reads which rooms changed.
   */
  async read(userId: string, windows: readonly TimelineWindow[], limit: number, keep: (event: StoredEvent) => boolean): Promise<Map<string, Timeline>> {
    const raw = await this.newestPerRoom(windows, limit + 1);
    const served = await this.serve(userId, [...raw.values()].flat(), keep);
    const out = new Map<string, Timeline>();
    for (const window of windows) {
      const events = raw.get(window.roomId);
      if (!events) continue;
      let shown = events.flatMap((e) => served.get(e.eventId) ?? []);
      const membersChanged = events.some((e) => e.type === 'm.room.member');
      // Older events may remain only if the newest read came back full.
      let more = events.length > limit;
      let oldest = events[0]!.streamOrdering;
      const batch = Math.max(limit * 2, 10);
      for (let round = 0; more && shown.length <= limit && round < REFILL_ROUNDS; round++) {
        const older = (await this.store.events.getEventsByStream([window.roomId], oldest - 1, window.after, batch, 'backward')).reverse();
        more = older.length === batch;
        if (older.length === 0) break;
        oldest = older[0]!.streamOrdering;
        const servedOlder = await this.serve(userId, older, keep);
        shown = [...older.flatMap((e) => servedOlder.get(e.eventId) ?? []), ...shown];
      }
      out.set(window.roomId, { events: newest(shown, limit), limited: shown.length > limit || more, membersChanged });
    }
    return out;
  }

  /** Windows with equal bounds share one query. */
  private async newestPerRoom(windows: readonly TimelineWindow[], perRoom: number): Promise<Map<string, StoredEvent[]>> {
    const groups = new Map<string, TimelineWindow[]>();
    for (const w of windows) {
      const key = `${w.after}:${w.upTo}`;
      groups.set(key, [...(groups.get(key) ?? []), w]);
    }
    const results = await Promise.all(
      [...groups.values()].map((group) => this.store.events.recentEventsPerRoom(group.map((w) => w.roomId), group[0]!.after, group[0]!.upTo, perRoom)),
    );
    return new Map(results.flatMap((byRoom) => [...byRoom]));
  }

  /** The events the user may be served (in the form they may see them) that `keep` keeps, by event ID. */
  private async serve(userId: string, events: readonly StoredEvent[], keep: (event: StoredEvent) => boolean): Promise<Map<string, StoredEvent>> {
    const visible = await this.visibility.filterVisible(userId, events);
    return new Map(visible.filter(keep).map((e) => [e.eventId, e]));
  }
}

/** The last `limit` items (none for 0: `slice(-0)` would be all of them). */
export function newest<T>(items: readonly T[], limit: number): T[] {
  return limit > 0 ? items.slice(-limit) : [];
}
