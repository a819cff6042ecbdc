// Typing notifications across servers (server-server-api "Typing
// Notifications"): m.typing EDUs to the other servers in the room when a
// local user starts or stops typing, and typing of other servers' users
// into the local typing stream.
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import type { TypingService } from '../../services/user-data/index.js';
import type { Edu } from '../outbound/sender.js';
import type { BackgroundTasks } from '../../services/background-tasks.js';
import type { RoomPeers } from './room-peers.js';

/**
 * How long another server's user counts as typing without a renewal. The
 * EDU carries no timeout; Synapse forgets a remote typist after a minute and
 * renews its own users' typing every 40 s while they type.
 */
export const REMOTE_TYPING_TIMEOUT_MS = 60_000;
export const TYPING_RENEWAL_MS = 40_000;

export interface TypingFederationDeps {
  typing: TypingService;
  peers: RoomPeers;
  queueEdu: (edu: Edu, destinations: readonly string[]) => Promise<void>;
  background: BackgroundTasks;
  clock: () => number;
}

export class TypingFederation {
  /** When each local typist's `typing: true` last went out, per room. */
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly deps: TypingFederationDeps) {
    deps.typing.onLocalChange((roomId, userId, typing) => this.onLocalChange(roomId, userId, typing));
  }

  /** The m.typing EDU handler. */
  async receive(origin: string, content: JsonObject): Promise<void> {
    const { room_id: roomId, user_id: userId, typing } = content;
    if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean') {
      throw new Error("m.typing needs string 'room_id' and 'user_id' and boolean 'typing'");
    }
    if (serverNameOfUserId(userId) !== origin) throw new Error(`m.typing for ${userId}, who is not a user of ${origin}`);
    if (!(await this.deps.peers.admitsUser(roomId, userId, origin))) return;
    this.deps.typing.setRemoteTyping(roomId, userId, typing, REMOTE_TYPING_TIMEOUT_MS);
  }

  /** Renewals within TYPING_RENEWAL_MS of the last EDU change nothing the other servers see. */
  private onLocalChange(roomId: string, userId: string, typing: boolean): void {
    const key = `${roomId}\u0000${userId}`;
    const now = this.deps.clock();
    const sent = this.lastSent.get(key);
    if (typing && sent !== undefined && now - sent < TYPING_RENEWAL_MS) return;
    if (typing) this.lastSent.set(key, now);
    else this.lastSent.delete(key);
    this.deps.background.run('telling other servers of typing', async () => {
      const servers = await this.deps.peers.serversInRoom(roomId);
      if (servers.length > 0) await this.deps.queueEdu({ edu_type: 'm.typing', content: { room_id: roomId, user_id: userId, typing } }, servers);
    });
  }
}
