// Event IDs per room version (rooms/fragments/v1-event-ids.md, rooms/v3.md
// "Event IDs", v4-event-ids.md) and v12's room IDs derived from the create
// event (appendices.md, "Room IDs").

import { encodeBase64, encodeBase64Url } from './base64.js';
import { computeReferenceHash } from './hashes.js';
import type { EventLike } from './redaction.js';
import type { RoomVersionRules } from './room-versions.js';

export class EventIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventIdError';
  }
}

/**
 * The ID of `pdu` in a room of version `rules`. In v1 and v2 the origin server
 * chose it and it travels in the event; later versions derive it from the
 * reference hash, so any `event_id` carried there is ignored.
 */
export function computeEventId(pdu: EventLike, rules: RoomVersionRules): string {
  switch (rules.eventIdFormat) {
    case 'server': {
      const carried = pdu['event_id'];
      if (typeof carried !== 'string') {
        throw new EventIdError(`an event in a room of version ${rules.id} must carry its event_id, and this one has none`);
      }
      return carried;
    }
    case 'base64':
      return `$${encodeBase64(computeReferenceHash(pdu, rules))}`;
    case 'urlsafe':
      return `$${encodeBase64Url(computeReferenceHash(pdu, rules))}`;
  }
}

/** v12: the room ID is the create event's ID with `!` in place of `$`. */
export function roomIdFromCreateEvent(createPdu: EventLike, rules: RoomVersionRules): string {
  if (!rules.roomIdIsCreateEventHash) {
    throw new EventIdError(`room version ${rules.id} does not derive room IDs from the create event`);
  }
  if (createPdu['type'] !== 'm.room.create') {
    throw new EventIdError(`only an m.room.create event defines a room ID, not ${JSON.stringify(createPdu['type'])}`);
  }
  return `!${encodeBase64Url(computeReferenceHash(createPdu, rules))}`;
}

/**
 * A `$opaque:server` event ID as our server makes them for room versions 1
 * and 2. `randomOpaque` supplies the opaque part (the core has no randomness);
 * it must be non-empty and free of `:`.
 */
export function generateServerEventId(serverName: string, randomOpaque: () => string): string {
  const opaque = randomOpaque();
  if (opaque === '' || opaque.includes(':')) {
    throw new EventIdError(`the opaque part of an event ID must be non-empty and contain no ":", got ${JSON.stringify(opaque)}`);
  }
  return `$${opaque}:${serverName}`;
}
