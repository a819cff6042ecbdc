// The presence stream (Dendrite's stream_presence.go): m.presence of the
// users who share a joined room with the syncing user, themselves included
// (presence.md), and of the members of rooms they peek into. An initial sync
// always carries the user's own presence; an incremental sync that reports a
// join carries the current presence of the room's members, whenever it last
// changed, and so does one that reports others joining the user's rooms, for
// those newcomers (as Synapse's sync does for newly joined rooms and users),
// since the client had no reason to follow them before.
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
    const newcomers = isInitial(ctx) ? [] : await this.newcomers(ctx);
    if (!moved && newcomers.length === 0) return;
    const events = moved ? await this.changedSince(ctx, since) : [];
    const included = new Set(events.map((e) => e.sender));
    const unsent = newcomers.filter((u) => u !== ctx.userId && !included.has(u) && !ctx.ignoredUsers.has(u));
    events.push(...(await this.presence.currentPresenceEvents(unsent)));
    if (isInitial(ctx) && !included.has(ctx.userId)) events.push(...(await this.presence.currentPresenceEvents([ctx.userId])));
    for (const event of events) {
      if (eventMatchesFilter({ type: 'm.presence', sender: event.sender as string }, ctx.filter.presence)) out.presence.push(event);
    }
  }

  /**
   * Users an incremental sync introduces: the members of rooms it reports
   * the user joining, and those it reports joining the user's rooms (joins
   * between the two tokens).
   */
  private async newcomers(ctx: SyncContext): Promise<string[]> {
    const since = sinceOf(ctx, 'events');
    const membersOfJoined = await Promise.all([...ctx.newlyJoinedRoomIds].map((roomId) => this.memberships.membersOfRoom(roomId, 'join')));
    const joiners = await this.memberships.usersJoinedBetween(ctx.userId, since, ctx.to.events);
    return [...new Set([...membersOfJoined.flat().map((m) => m.userId), ...joiners])];
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
