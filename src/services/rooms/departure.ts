// The room as a user who left (or was kicked or banned) last saw it: the
// state before their departure event, plus that event. What they may read
// of a room they are no longer in stops there (client-server-api, "Leaving
// rooms": the room's state and history up to the leave remain visible).
import { stateKeyString, type StateMap } from '../../core/types.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';

/** The state at `departure` as event IDs by key; undefined when the departure has no recorded state. */
export async function stateMapAtDeparture(store: RoomStore, departure: StoredEvent): Promise<StateMap | undefined> {
  if (departure.stateSnapshotBefore === null) return undefined;
  const state = await store.snapshots.loadStateSnapshot(departure.stateSnapshotBefore);
  state.set(stateKeyString(departure.type, departure.stateKey ?? ''), departure.eventId);
  return state;
}

/** The state events at `departure`, oldest first; undefined when the departure has no recorded state. */
export async function stateEventsAtDeparture(store: RoomStore, departure: StoredEvent): Promise<StoredEvent[] | undefined> {
  const state = await stateMapAtDeparture(store, departure);
  if (!state) return undefined;
  const events = await store.events.getEvents([...state.values()]);
  return [...events.values()].sort((a, b) => a.streamOrdering - b.streamOrdering);
}
