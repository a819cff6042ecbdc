// Serving stored events inside /sync: the ClientEvent format without room_id
// (sync.yaml: ClientEventWithoutRoomID — the room is the key they sit under),
// or the PDU for `event_format: federation`, then the filter's event_fields.
import type { JsonObject } from '../../core/types.js';
import type { StoredEvent } from '../../storage/rooms/index.js';
import { applyEventFields, eventMatchesFilter, type FilterableEvent, type RoomEventFilter } from '../filters/index.js';
import { federationFormat, type ClientEventFormatter } from '../rooms/client-events.js';
import type { SyncContext } from './context.js';

export class SyncEventSerializer {
  constructor(private readonly formatter: ClientEventFormatter) {}

  async serialize(events: readonly StoredEvent[], ctx: Pick<SyncContext, 'userId' | 'deviceId' | 'filter'>): Promise<JsonObject[]> {
    if (events.length === 0) return [];
    const formatted: JsonObject[] =
      ctx.filter.eventFormat === 'federation'
        ? events.map(federationFormat)
        : (await this.formatter.format(events, { userId: ctx.userId, deviceId: ctx.deviceId })).map(withoutRoomId);
    return formatted.map((e) => applyEventFields(e, ctx.filter.eventFields));
  }
}

function withoutRoomId(event: JsonObject): JsonObject {
  const { room_id: _roomId, ...rest } = event;
  return rest;
}

/** The content of a stored event (parsed from its canonical JSON). */
export function contentOf(event: StoredEvent): JsonObject {
  return (JSON.parse(event.json) as { content: JsonObject }).content;
}

/** Whether a stored event passes a RoomEventFilter; content is parsed only when contains_url asks. */
export function storedEventMatches(event: StoredEvent, filter: RoomEventFilter): boolean {
  const filterable: FilterableEvent = { type: event.type, sender: event.sender, room_id: event.roomId };
  if (filter.containsUrl !== undefined) filterable.content = contentOf(event);
  return eventMatchesFilter(filterable, filter);
}
