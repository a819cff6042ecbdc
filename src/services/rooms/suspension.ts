// What a suspended account may still send (client-server-api/_index.md,
// "Account suspension"): leaving rooms and rejecting invites, and redacting
// its own events. Everything else a local user sends — messages, state,
// joins, knocks, invites, bans, new rooms — is refused with 403
// M_USER_SUSPENDED, as Synapse refuses it.
import type { EventStore } from '../../storage/rooms/events.js';
import { userSuspended } from '../accounts/administration.js';
import type { EventRequest, SendCheck } from './event-pipeline.js';

export function suspendedSenderCheck(isSuspended: (userId: string) => Promise<boolean>, events: Pick<EventStore, 'getEvent'>): SendCheck {
  return async (request: EventRequest) => {
    if (!(await isSuspended(request.sender))) return;
    if (request.type === 'm.room.member') {
      if (request.content.membership === 'leave') return;
      throw userSuspended('You cannot join, knock, invite or ban while your account is suspended; you can still leave rooms');
    }
    if (request.type === 'm.room.redaction' && request.redacts !== undefined) {
      const target = await events.getEvent(request.redacts);
      if (!target || target.sender === request.sender) return;
      throw userSuspended("You can only redact your own events while your account is suspended");
    }
    throw userSuspended('You cannot send events while your account is suspended');
  };
}
