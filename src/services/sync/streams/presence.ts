// The presence stream (Dendrite's stream_presence.go): m.presence of the
// users who share a joined room with the syncing user, themselves included
// (presence.md), and of the members of rooms they peek into.
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
    if (!isInitial(ctx) && since >= ctx.to.presence) return;
    const peekedMembers = await Promise.all(ctx.peekedRoomIds.map((roomId) => this.memberships.membersOfRoom(roomId, 'join')));
    const sharing = new Set([...(await this.memberships.usersSharingRoomsWith(ctx.userId)), ...peekedMembers.flat().map((m) => m.userId)]);
    const users = [...sharing].filter((u) => !ctx.ignoredUsers.has(u));
    if (!users.includes(ctx.userId)) users.push(ctx.userId);
    for (const event of await this.presence.presenceSince(since, users)) {
      const sender = event.sender as string;
      if (eventMatchesFilter({ type: 'm.presence', sender }, ctx.filter.presence)) out.presence.push(event);
    }
  }
}
