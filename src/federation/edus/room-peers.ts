// Which other servers take part in a room, or share one with a user, and
// whether a room EDU from a server is admissible: the room is known here,
// its server ACL admits the server (server-server-api "Server Access Control
// Lists": typing and receipts are room EDUs), and the user it is about is
// joined to it.
import { serverNameOfUserId } from '../../core/identifiers.js';
import { serverAclAllows } from '../../core/server-acl.js';
import { contentOf } from '../../services/sync/events.js';
import type { RoomStore } from '../../storage/rooms/index.js';

export class RoomPeers {
  constructor(
    private readonly store: RoomStore,
    private readonly serverName: string,
  ) {}

  /** The other servers with a user joined to the room. */
  async serversInRoom(roomId: string): Promise<string[]> {
    return this.otherServersOf((await this.store.memberships.membersOfRoom(roomId, 'join')).map((m) => m.userId));
  }

  /**
   * The other servers with a user joined to a room `userId` is joined to
   * (through rooms other than `exceptRoomId`, when given).
   */
  async serversSharingRoomsWith(userId: string, exceptRoomId?: string): Promise<string[]> {
    return this.otherServersOf(await this.store.memberships.usersSharingRoomsWith(userId, exceptRoomId));
  }

  /** Whether the room is known here and its server ACL admits `origin`. */
  async admitsServer(roomId: string, origin: string): Promise<boolean> {
    if (!(await this.store.rooms.getRoom(roomId))) return false;
    const acl = await this.store.currentState.getCurrentStateEvent(roomId, 'm.room.server_acl', '');
    return serverAclAllows(acl && contentOf(acl), origin);
  }

  async isJoined(roomId: string, userId: string): Promise<boolean> {
    return (await this.store.memberships.getMembership(roomId, userId))?.membership === 'join';
  }

  /** Whether a user of `origin` may tell us about `userId` in `roomId`: an admitted server and a joined user. */
  async admitsUser(roomId: string, userId: string, origin: string): Promise<boolean> {
    return (await this.admitsServer(roomId, origin)) && (await this.isJoined(roomId, userId));
  }

  private otherServersOf(userIds: readonly string[]): string[] {
    const servers = new Set<string>();
    for (const userId of userIds) {
      const server = serverNameOfUserId(userId);
      if (server !== null && server !== this.serverName) servers.add(server);
    }
    return [...servers].sort();
  }
}
