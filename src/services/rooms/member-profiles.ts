// Profile changes reach rooms (as Synapse's ProfileHandler._update_join_states):
// after a local user changes their display name or avatar, their join is
// re-sent with the new profile in every room they are joined to, so the other
// members — on this server and, through the pipeline, on others — see it.
//
// It runs in the background, so a user in a thousand rooms gets a prompt
// answer, and one room after another. A user's passes run in order, each
// reading the profile as it starts: an earlier change can never land after a
// later one, and changes made while a pass waits share that pass.
import type { BackgroundTasks, TaskLog } from '../background-tasks.js';
import type { RoomService } from './index.js';
import { KeyedQueue } from './keyed-queue.js';

export class MemberProfileUpdates {
  private readonly passes = new KeyedQueue();
  /** Users with a pass queued that has not read the profile yet. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly rooms: Pick<RoomService, 'joinedRooms' | 'memberProfile' | 'refreshMemberProfile'>,
    private readonly background: BackgroundTasks,
    private readonly log: TaskLog,
  ) {}

  /** Queues a pass over the user's joined rooms and returns at once. */
  profileChanged(userId: string): void {
    if (this.waiting.has(userId)) return;
    this.waiting.add(userId);
    this.background.run(`updating the member events of ${userId}`, () => this.passes.run(userId, () => this.pass(userId)));
  }

  private async pass(userId: string): Promise<void> {
    this.waiting.delete(userId);
    const profile = await this.rooms.memberProfile(userId);
    for (const roomId of await this.rooms.joinedRooms(userId)) {
      // On shutdown the rest waits for the user's next change.
      if (this.background.stopping) return;
      try {
        await this.rooms.refreshMemberProfile(userId, roomId, profile);
      } catch (err) {
        // One room refusing (a power level that forbids it) does not stop the others.
        this.log('could not update a member event after a profile change', { userId, roomId, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
