// What a member event changed: the membership its state key had before it.
import type { Event } from '../../core/types.js';
import type { EventStore } from '../../storage/rooms/index.js';

/** The membership the member event replaced in the room's state ('leave' when it replaced none). */
export async function previousMembership(events: Pick<EventStore, 'getEvent'>, event: Event): Promise<string> {
  const replaced = (await events.getEvent(event.event_id))?.replacesState;
  const before = replaced ? await events.getEvent(replaced) : undefined;
  const membership = before ? (JSON.parse(before.json) as { content?: { membership?: unknown } }).content?.membership : undefined;
  return typeof membership === 'string' ? membership : 'leave';
}
