// unread_notifications of every joined room in the response, from the push
// area's running totals (push.md, "Receiving notifications"). The totals are
// read alongside the other streams (the rooms with anything unread: a few
// rows); the rooms are annotated once every provider has put its rooms in.
import type { NotificationStore } from '../../../storage/push/notifications.js';
import type { SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

export class NotificationCountsProvider implements StreamProvider {
  constructor(private readonly notifications: Pick<NotificationStore, 'unreadRooms'>) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const unread = await this.notifications.unreadRooms(ctx.userId);
    out.finishJoinedRooms((roomId, room) => {
      const c = unread.get(roomId);
      room.unread_notifications = { notification_count: c?.notification_count ?? 0, highlight_count: c?.highlight_count ?? 0 };
    });
  }
}
