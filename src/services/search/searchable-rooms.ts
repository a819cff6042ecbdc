// The rooms a search covers, and how far into each. A user searches the rooms
// they are joined to, and also the rooms they left or were kicked or banned
// from, up to their departure (the stream position of that member event):
// nothing sent after it, even where history visibility
// (client-server-api/modules/history_visibility.md) is world_readable. Which
// events before it they may see is still for the visibility filter to decide —
// including in a room they only rejected an invitation to. Rooms they forgot
// (POST /rooms/{roomId}/forget) are left out, as everywhere else.
import type { StateMap } from '../../core/types.js';
import type { RoomMembership, RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import type { SearchRoom } from '../../storage/search.js';
import { stateMapAtDeparture } from '../rooms/departure.js';

export class SearchableRooms {
  private readonly departureStates = new Map<string, Promise<StateMap | undefined>>();

  private constructor(
    private readonly roomStore: RoomStore,
    private readonly memberships: ReadonlyMap<string, RoomMembership>,
  ) {}

  /** The user's joined rooms and the left or banned rooms they have not forgotten, those `allowed` keeps. */
  static async forUser(roomStore: RoomStore, userId: string, allowed: (roomId: string) => boolean): Promise<SearchableRooms> {
    const memberships = await roomStore.memberships.roomsForUser(userId, ['join', 'leave', 'ban']);
    const kept = memberships.filter((m) => !m.forgotten && allowed(m.roomId));
    return new SearchableRooms(roomStore, new Map(kept.map((m) => [m.roomId, m])));
  }

  /** What the search store should look through. */
  searchRooms(): SearchRoom[] {
    return [...this.memberships.keys()].map((roomId) => ({ roomId, upTo: this.lastReadable(roomId) }));
  }

  /** Whether the user has left (or been banned from) the room rather than being joined to it. */
  departed(roomId: string): boolean {
    return this.departure(roomId) !== undefined;
  }

  /** The last stream position the user may read in the room (their departure), or undefined for no limit. */
  lastReadable(roomId: string): number | undefined {
    return this.departure(roomId)?.streamOrdering;
  }

  /**
   * The room's state as the user left it (the state before their departure
   * plus the departure), as GET /rooms/{roomId}/state gives it to them;
   * undefined if the departure has no recorded state.
   */
  stateAtDeparture(roomId: string): Promise<StateMap | undefined> {
    const departure = this.departure(roomId);
    if (!departure) return Promise.resolve(undefined);
    let state = this.departureStates.get(roomId);
    if (!state) {
      state = this.loadStateAtDeparture(departure);
      this.departureStates.set(roomId, state);
    }
    return state;
  }

  /** The events of the state at the user's departure. */
  async stateEventsAtDeparture(roomId: string): Promise<StoredEvent[] | undefined> {
    const state = await this.stateAtDeparture(roomId);
    return state && [...(await this.roomStore.events.getEvents([...state.values()])).values()];
  }

  private departure(roomId: string): RoomMembership | undefined {
    const membership = this.memberships.get(roomId);
    return membership && membership.membership !== 'join' ? membership : undefined;
  }

  private async loadStateAtDeparture(departure: RoomMembership): Promise<StateMap | undefined> {
    const event = await this.roomStore.events.getEvent(departure.eventId);
    return event && stateMapAtDeparture(this.roomStore, event);
  }
}
