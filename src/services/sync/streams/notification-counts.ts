// unread_notifications of every joined room in the response, from the push
// area's counts (push.md, "Receiving notifications").
import type { NotificationStore } from '../../../storage/push/notifications.js';
import type { SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

/** Runs after the others: it annotates the rooms they put in the response. */
export class NotificationCountsProvider implements StreamProvider {
  constructor(private readonly notifications: NotificationStore) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    if (out.join.size === 0) return;
    const counts = await this.notifications.countsFor(ctx.userId, [...out.join.keys()]);
    for (const [roomId, room] of out.join) {
      const c = counts.get(roomId);
      room.unread_notifications = { notification_count: c?.notification_count ?? 0, highlight_count: c?.highlight_count ?? 0 };
    }
  }
}
