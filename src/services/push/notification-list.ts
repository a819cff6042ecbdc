// The user's notifications as GET /notifications lists them
// (client-server-api/modules/push.md, "Listing Notifications"): newest first,
// paged by stream position, each with the event it is about, which must still
// be one the user may read.
import type { StoredNotification, NotificationStore } from '../../storage/push/index.js';
import type { EventStore, StoredEvent } from '../../storage/rooms/index.js';
import type { HistoryVisibility } from '../rooms/visibility.js';

export interface NotificationPage {
  /** Each notification with the event it is about, newest first. */
  notifications: { notification: StoredNotification; event: StoredEvent }[];
  /** Where the next (older) page starts, when there is one. */
  nextBefore?: number;
}

export interface NotificationListDeps {
  notifications: NotificationStore;
  events: EventStore;
  visibility: Pick<HistoryVisibility, 'filterVisible'>;
}

export class NotificationList {
  constructor(private readonly deps: NotificationListDeps) {}

  async page(userId: string, opts: { before?: number; limit: number; onlyHighlight: boolean }): Promise<NotificationPage> {
    const rows = await this.deps.notifications.list(userId, { before: opts.before, limit: opts.limit + 1, onlyHighlight: opts.onlyHighlight });
    const shown = rows.slice(0, opts.limit);
    const stored = await this.deps.events.getEvents(shown.map((r) => r.eventId));
    // The same rule as every read path: a sender ignored since, or erased, changes what is served.
    const served = new Map((await this.deps.visibility.filterVisible(userId, [...stored.values()])).map((e) => [e.eventId, e]));
    // A notification whose event has since been purged, or may no longer be served, has nothing to show.
    const notifications = shown.flatMap((notification) => {
      const event = served.get(notification.eventId);
      return event ? [{ notification, event }] : [];
    });
    return rows.length > opts.limit ? { notifications, nextBefore: shown.at(-1)!.streamOrdering } : { notifications };
  }
}
