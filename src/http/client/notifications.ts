// GET /notifications (client-server-api/modules/push.md, "Listing
// Notifications"; data/api/client-server/notifications.yaml): the events that
// notified the user, newest first, paginated by stream position.
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { ClientEventFormatter } from '../../services/rooms/client-events.js';
import type { NotificationList } from '../../services/push/notification-list.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { queryInteger } from '../validate.js';
import { requesterOf } from './uia.js';

/** Synapse's default page size; the maximum keeps one request's work bounded. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

export interface NotificationRouteDeps {
  notifications: NotificationList;
  formatter: ClientEventFormatter;
}

export function notificationRoutes(deps: NotificationRouteDeps): Route[] {
  return [
    /** # GET /_matrix/client/v3/notifications */
    {
      method: 'GET',
      path: '/_matrix/client/v3/notifications',
      auth: 'required',
      handler: async (req) => {
        const requester = requesterOf(req);
        const before = fromToken(req.query.get('from'));
        const limit = queryInteger(req.query, 'limit', { min: 1 }) ?? DEFAULT_LIMIT;
        const only = req.query.get('only');
        const page = await deps.notifications.page(requester.userId, { before, limit: Math.min(limit, MAX_LIMIT), onlyHighlight: only === 'highlight' });
        const clientEvents = await deps.formatter.format(page.notifications.map((n) => n.event), requester);
        const notifications: JsonValue[] = page.notifications.map(({ notification }, i) => ({
          actions: notification.actions as JsonValue[],
          event: clientEvents[i]!,
          read: notification.read,
          room_id: notification.roomId,
          ts: notification.ts,
        }));
        const body: JsonObject = { notifications };
        if (page.nextBefore !== undefined) body.next_token = String(page.nextBefore);
        return { body };
      },
    },
  ];
}

/** `from` is a `next_token` we handed out: the stream position to continue below. */
function fromToken(token: string | null): number | undefined {
  if (token === null || token === '') return undefined;
  if (!/^\d+$/.test(token)) throw invalidParam(`'from' is not a token from this server's /notifications: '${token}'`);
  return Number(token);
}
