// GET /notifications (client-server-api/modules/push.md, "Listing
// Notifications"; data/api/client-server/notifications.yaml): the events that
// notified the user, newest first, paginated by stream position.
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { ClientEventFormatter } from '../../services/rooms/client-events.js';
import type { HistoryVisibility } from '../../services/rooms/visibility.js';
import type { NotificationStore } from '../../storage/push/index.js';
import type { EventStore } from '../../storage/rooms/index.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { queryInteger } from '../validate.js';
import { requesterOf } from './uia.js';

/** Synapse's default page size; the maximum keeps one request's work bounded. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

export interface NotificationRouteDeps {
  notifications: NotificationStore;
  events: EventStore;
  formatter: ClientEventFormatter;
  visibility: Pick<HistoryVisibility, 'filterVisible'>;
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
        const page = Math.min(limit, MAX_LIMIT);
        const rows = await deps.notifications.list(requester.userId, {
          before,
          limit: page + 1,
          onlyHighlight: only === 'highlight',
        });
        const shown = rows.slice(0, page);
        const stored = await deps.events.getEvents(shown.map((r) => r.eventId));
        // The same rule as every read path: a sender ignored since, or erased, changes what is served.
        const served = new Map((await deps.visibility.filterVisible(requester.userId, [...stored.values()])).map((e) => [e.eventId, e]));
        // A notification whose event has since been purged, or may no longer be served, has nothing to show.
        const present = shown.filter((row) => served.has(row.eventId));
        const clientEvents = await deps.formatter.format(present.map((row) => served.get(row.eventId)!), requester);
        const notifications: JsonValue[] = present.map((row, i) => ({
          actions: row.actions as JsonValue[],
          event: clientEvents[i]!,
          read: row.read,
          room_id: row.roomId,
          ts: row.ts,
        }));
        const body: JsonObject = { notifications };
        if (rows.length > page) body.next_token = String(shown.at(-1)!.streamOrdering);
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
