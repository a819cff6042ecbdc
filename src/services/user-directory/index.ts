// The user directory (client-server-api/_index.md, "User directory";
// users.yaml): an index of users kept up to date from profile changes,
// deactivations and room membership, searched by word prefix. By default
// (Synapse's user_directory.search_all_users: false) a searcher finds only
// users who share a joined room with them or are joined to a public room.
import type { UserDirectoryConfig } from '../../config/types.js';
import type { Event } from '../../core/types.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { ProfileStore } from '../../storage/accounts/profiles.js';
import { searchWords } from '../../storage/search.js';
import type { DirectoryUser, UserDirectoryStore } from '../../storage/user-directory.js';
import type { AccountEventMap } from '../accounts/index.js';
import type { LoadedRoom } from '../rooms/room-state.js';

export const USER_DIRECTORY_DEFAULTS: UserDirectoryConfig = { enabled: true, searchAllUsers: false, preferLocalUsers: false };

export interface UserDirectoryResults {
  results: DirectoryUser[];
  limited: boolean;
}

export class UserDirectoryService {
  constructor(
    private readonly store: UserDirectoryStore,
    private readonly profiles: ProfileStore,
    private readonly serverName: string,
    private readonly config: UserDirectoryConfig = USER_DIRECTORY_DEFAULTS,
  ) {}

  async onProfileChanged(change: AccountEventMap['profileChanged']): Promise<void> {
    await this.store.upsertUser({ userId: change.userId, displayName: change.displayname, avatarUrl: change.avatarUrl });
  }

  /** Deactivated users are never found again (Synapse removes them too). */
  async onUserDeactivated({ userId }: AccountEventMap['userDeactivated']): Promise<void> {
    await this.store.removeUser(userId);
  }

  /** Follows joins (who is known, and their profile) and the state that makes a room public. */
  async onEventPersisted(event: Event, room: LoadedRoom): Promise<void> {
    if (event.state_key === undefined) return;
    if (event.type === 'm.room.join_rules' || event.type === 'm.room.history_visibility') {
      await this.recordPublicity(room);
    } else if (event.type === 'm.room.member') {
      const local = serverNameOfUserId(event.state_key) === this.serverName;
      if (event.content.membership === 'join') {
        await this.store.upsertUser(await this.profileOf(event));
        // A join through another server brings the room's state without
        // events of their own: when this server's first member joins, the
        // room's publicity and its other members are indexed from that state.
        if (local && !this.joinedHereBesides(room, event.state_key)) {
          await this.recordPublicity(room);
          for (const member of room.state.values()) {
            if (member.type === 'm.room.member' && member.content.membership === 'join' && member.state_key !== event.state_key) {
              await this.store.upsertUser(await this.profileOf(member));
            }
          }
        }
      } else if (local && !room.hasJoinedMemberOf(this.serverName)) {
        // This server left the room: what it knows of the members goes
        // stale, so the room no longer makes them visible, and other
        // servers' users it was the last link to leave the directory —
        // search_all_users would otherwise still find them (Synapse forgets
        // a room's users when the server leaves it).
        await this.store.setRoomPublic(room.roomId, false);
        await this.store.removeUsersSharingNoRoomWith(this.remoteMembers(room), this.serverName);
      }
    }
  }

  private async recordPublicity(room: LoadedRoom): Promise<void> {
    const joinRule = room.stateEvent('m.room.join_rules')?.content.join_rule;
    const visibility = room.stateEvent('m.room.history_visibility')?.content.history_visibility;
    await this.store.setRoomPublic(room.roomId, joinRule === 'public' || visibility === 'world_readable');
  }

  private remoteMembers(room: LoadedRoom): string[] {
    const members: string[] = [];
    for (const member of room.state.values()) {
      if (member.type !== 'm.room.member' || member.content.membership !== 'join' || member.state_key === undefined) continue;
      if (serverNameOfUserId(member.state_key) !== this.serverName) members.push(member.state_key);
    }
    return members;
  }

  private joinedHereBesides(room: LoadedRoom, userId: string): boolean {
    for (const member of room.state.values()) {
      if (member.type !== 'm.room.member' || member.state_key === userId || member.content.membership !== 'join') continue;
      if (serverNameOfUserId(member.state_key ?? '') === this.serverName) return true;
    }
    return false;
  }

  /** POST /user_directory/search */
  async search(searcher: string, term: string, limit: number): Promise<UserDirectoryResults> {
    if (!this.config.enabled) return { results: [], limited: false };
    const found = await this.store.search({
      searcher,
      words: searchWords(term),
      searchAllUsers: this.config.searchAllUsers,
      preferLocalServer: this.config.preferLocalUsers ? this.serverName : undefined,
      limit: limit + 1,
    });
    return { results: found.slice(0, limit), limited: found.length > limit };
  }

  /** Local users by their global profile (per-room names do not leak); remote users by their join event. */
  private async profileOf(member: Event): Promise<DirectoryUser> {
    const userId = member.state_key!;
    if (serverNameOfUserId(userId) === this.serverName) {
      const profile = await this.profiles.get(userId);
      return { userId, displayName: profile?.displayname ?? null, avatarUrl: profile?.avatarUrl ?? null };
    }
    const { displayname, avatar_url: avatarUrl } = member.content;
    return { userId, displayName: typeof displayname === 'string' ? displayname : null, avatarUrl: typeof avatarUrl === 'string' ? avatarUrl : null };
  }
}
