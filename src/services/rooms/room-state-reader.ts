// Which room state a user may read (GET /rooms/{roomId}/state…): members see
// the current state; someone who left sees the state as it was when they
// left (room_state.yaml: "If the user has left the room"); someone banned
// sees none, as in Synapse; anyone may read a world_readable room.
import { forbidden, notFound } from '../../core/errors.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { stateEventsAtDeparture } from './departure.js';

export class RoomStateReader {
  constructor(private readonly store: RoomStore) {}

  async visibleState(userId: string, roomId: string): Promise<StoredEvent[]> {
    const membership = await this.store.memberships.getMembership(roomId, userId);
    if (membership?.membership === 'join') return this.store.currentState.getCurrentStateEvents(roomId);
    if (membership?.membership === 'leave') {
      const departure = await this.store.events.getEvent(membership.eventId);
      const state = departure && (await stateEventsAtDeparture(this.store, departure));
      if (state) return state;
    }
    if (await this.isWorldReadable(roomId)) return this.store.currentState.getCurrentStateEvents(roomId);
    if (!(await this.store.rooms.getRoom(roomId))) throw notFound(`Unknown room ${roomId}`);
    throw forbidden(`${userId} is not in ${roomId} and its history is not world readable`);
  }

  async visibleStateEvent(userId: string, roomId: string, type: string, stateKey: string): Promise<StoredEvent> {
    const state = await this.visibleState(userId, roomId);
    const event = state.find((e) => e.type === type && e.stateKey === stateKey);
    if (!event) throw notFound(`The room has no ${type} state${stateKey === '' ? '' : ` for '${stateKey}'`}`);
    return event;
  }

  private async isWorldReadable(roomId: string): Promise<boolean> {
    const event = await this.store.currentState.getCurrentStateEvent(roomId, 'm.room.history_visibility', '');
    return event !== undefined && (JSON.parse(event.json) as { content: { history_visibility?: unknown } }).content.history_visibility === 'world_readable';
  }
}
