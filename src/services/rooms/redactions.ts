// Applying redactions to the events they name, for local and received
// redactions alike (rooms/fragments/v3-handling-redactions.md): the target
// is redacted if it is in the same room and either the redaction's sender
// has the redact level or both events come from the same server. In room
// versions 1 and 2 the auth rules already checked this. Runs inside the
// redaction's own transaction, so both commit together.
import { serverNameOfUserId } from '../../core/identifiers.js';
import { RoomPowerLevels } from '../../core/power-levels.js';
import type { Event } from '../../core/types.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { LoadedRoom } from './room-state.js';

/** The event a redaction names: top-level `redacts` before v11, in content from v11. */
export function redactionTarget(event: Event, room: LoadedRoom): string | undefined {
  if (event.type !== 'm.room.redaction') return undefined;
  const target = room.rules.redactsInContent ? event.content['redacts'] : event.redacts;
  return typeof target === 'string' ? target : undefined;
}

export async function applyRedaction(store: RoomStore, event: Event, room: LoadedRoom): Promise<void> {
  const targetId = redactionTarget(event, room);
  if (targetId === undefined) return;
  const target = await store.events.getEvent(targetId);
  if (!target || target.roomId !== event.room_id) return;
  const sameServer = serverNameOfUserId(target.sender) === serverNameOfUserId(event.sender);
  const powers = RoomPowerLevels.fromEvents(room.stateEvent('m.room.power_levels'), room.stateEvent('m.room.create'), room.rules);
  // Before v3 the auth rules held the redaction to these conditions already.
  if (room.rules.eventFormat === 1 || sameServer || powers.userPowerLevel(event.sender) >= powers.level('redact')) {
    await store.events.setRedactedBecause(targetId, event.event_id);
  }
}
