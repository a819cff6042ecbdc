// The presence stream (Dendrite's stream_presence.go): m.presence of the
// users who share a joined room with the syncing user, themselves included
// (presence.md), and of the members of rooms they peek into. An initial sync
// always carries the user's own presence; an incremental sync that reports a
// join carries the current presence of the room's members, whenever it last
// changed (as Synapse's sync does for newly joined rooms), since the client
// had no reason to follow them before.
import type { JsonObject } from '../../../core/types.js';
import { eventMatchesFilter } from '../../filters/index.js';
import type { MembershipStore } from '../../../storage/rooms/index.js';
import type { PresenceService } from '../../user-data/index.js';
import { isInitial, sinceOf, type SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

export class PresenceStreamProvider implements StreamProvider {
  constructor(
    private readonly presence: PresenceService,
    private readonly memberships: MembershipStore,
  ) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const since = sinceOf(ctx, 'presence');
    const moved = isInitial(ctx) || since < ctx.to.presence;
    const joinedRooms = newlyJoinedRooms(ctx);
    if (!moved && joinedRooms.length === 0) return;
    const events = moved ? await this.changedSince(ctx, since) : [];
    const included = new Set(events.map((e) => e.sender));
    if (joinedRooms.length > 0) {
      const members = (await Promise.all(joinedRooms.map((roomId) => this.memberships.membersOfRoom(roomId, 'join')))).flat().map((m) => m.userId);
      const newcomers = [...new Set(members)].filter((u) => u !== ctx.userId && !included.has(u) && !ctx.ignoredUsers.has(u));
      events.push(...(await this.presence.presenceSince(0, newcomers)));
    }
    if (isInitial(ctx) && !included.has(ctx.userId)) {
      const own = await this.presence.ownPresenceEvent(ctx.userId);
      if (own) events.push(own);
    }
    for (const event of events) {
      if (eventMatchesFilter({ type: 'm.presence', sender: event.sender as string }, ctx.filter.presence)) out.presence.push(event);
    }
  }

  /** Presence changed after `since` of the users the syncing user shares a room with (or peeks at), and their own. */
  private async changedSince(ctx: SyncContext, since: number): Promise<JsonObject[]> {
    const peekedMembers = await Promise.all(ctx.peekedRoomIds.map((roomId) => this.memberships.membersOfRoom(roomId, 'join')));
    const sharing = new Set([...(await this.memberships.usersSharingRoomsWith(ctx.userId)), ...peekedMembers.flat().map((m) => m.userId)]);
    const users = [...sharing].filter((u) => !ctx.ignoredUsers.has(u));
    if (!users.includes(ctx.userId)) users.push(ctx.userId);
    return this.presence.presenceSince(since, users);
  }
}

/** Rooms an incremental sync reports the user joining (their join lies between the tokens). */
function newlyJoinedRooms(ctx: SyncContext): string[] {
  if (isInitial(ctx)) return [];
  const since = sinceOf(ctx, 'events');
  return ctx.memberships.filter((m) => m.membership === 'join' && m.streamOrdering > since && m.streamOrdering <= ctx.to.events).map((m) => m.roomId);
}
