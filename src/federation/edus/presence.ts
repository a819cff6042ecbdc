// Presence across servers (server-server-api "Presence"): a local user's
// presence goes as m.presence EDUs only to the servers that share a room
// with them; other servers' users' presence is stored like local presence.
// With presence disabled (presence.enabled: false) nothing is sent or taken.
import { serverNameOfUserId } from '../../core/identifiers.js';
import { isJsonObject, type JsonObject } from '../../core/types.js';
import { PRESENCE_STATES, type PresenceContent, type PresenceService, type PresenceState, type RemotePresence } from '../../services/user-data/index.js';
import type { MembershipStore } from '../../storage/rooms/index.js';
import type { Edu } from '../outbound/sender.js';
import type { BackgroundTasks } from '../../services/background-tasks.js';
import type { RoomPeers } from './room-peers.js';

export interface PresenceFederationDeps {
  presence: PresenceService;
  memberships: Pick<MembershipStore, 'membersOfRoom'>;
  peers: RoomPeers;
  queueEdu: (edu: Edu, destinations: readonly string[]) => Promise<void>;
  background: BackgroundTasks;
  serverName: string;
}

export class PresenceFederation {
  constructor(private readonly deps: PresenceFederationDeps) {
    deps.presence.onLocalChange((userId, content) =>
      deps.background.run('telling other servers of a presence change', async () => {
        await this.send(new Map([[userId, content]]), await deps.peers.serversSharingRoomsWith(userId));
      }),
    );
  }

  /** The m.presence EDU handler: `push` lists updates of the origin's users. */
  async receive(origin: string, content: JsonObject): Promise<void> {
    const push = content['push'];
    if (!Array.isArray(push)) throw new Error("m.presence needs a 'push' array");
    const problems: string[] = [];
    for (const entry of push) {
      const update = isJsonObject(entry) ? parseUpdate(entry) : undefined;
      if (!update) problems.push("an update needs 'user_id', 'presence' (online, unavailable or offline) and 'last_active_ago'");
      else if (serverNameOfUserId(update.userId) !== origin) problems.push(`${update.userId} is not a user of ${origin}`);
      else await this.deps.presence.applyRemote(update);
    }
    if (problems.length > 0) throw new Error(`m.presence: ${problems.join('; ')}`);
  }

  /**
   * Someone joined a room (they were not joined before). As Synapse does, a
   * local user's presence goes to the room's other servers, and a server
   * that had nobody in the room gets the presence of the local users in it.
   */
  async onJoin(roomId: string, userId: string): Promise<void> {
    const server = serverNameOfUserId(userId);
    if (server === this.deps.serverName) {
      await this.send(await this.deps.presence.currentOf([userId]), await this.deps.peers.serversInRoom(roomId));
      return;
    }
    if (server === null) return;
    const members = (await this.deps.memberships.membersOfRoom(roomId, 'join')).map((m) => m.userId);
    if (members.some((m) => m !== userId && serverNameOfUserId(m) === server)) return;
    const locals = members.filter((m) => serverNameOfUserId(m) === this.deps.serverName);
    await this.send(await this.deps.presence.currentOf(locals), [server]);
  }

  private async send(presence: ReadonlyMap<string, PresenceContent>, servers: readonly string[]): Promise<void> {
    if (presence.size === 0 || servers.length === 0) return;
    const push = [...presence].map(([userId, content]): JsonObject => ({ user_id: userId, ...content }));
    await this.deps.queueEdu({ edu_type: 'm.presence', content: { push } }, servers);
  }
}

function parseUpdate(entry: JsonObject): RemotePresence | undefined {
  const { user_id: userId, presence, status_msg: statusMsg, last_active_ago: lastActiveAgo } = entry;
  if (typeof userId !== 'string' || typeof presence !== 'string' || !PRESENCE_STATES.includes(presence as PresenceState)) return undefined;
  if (typeof lastActiveAgo !== 'number' || !Number.isSafeInteger(lastActiveAgo)) return undefined;
  return { userId, state: presence as PresenceState, statusMsg: typeof statusMsg === 'string' ? statusMsg : null, lastActiveAgo };
}
