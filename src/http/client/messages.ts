// Reading a room's timeline (client-server-api/_index.md "Getting events for
// a room", "Room events pagination"; message_pagination.yaml,
// event_context.yaml, rooms.yaml, timestamp_to_event.yaml). Every event
// served passes history visibility (services/rooms/visibility.ts).
import type { JsonObject, JsonValue } from '../../core/types.js';
import { parseRoomEventFilter, type RoomEventFilter } from '../../services/filters/index.js';
import type { ClientEventFormatter } from '../../services/rooms/client-events.js';
import type { TimelineService } from '../../services/rooms/timeline.js';
import { MatrixError, notFound } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { queryInteger, queryString, requireQueryString } from '../validate.js';

export interface MessageRouteDeps {
  timeline: TimelineService;
  formatter: ClientEventFormatter;
}

/** message_pagination.yaml: `limit` defaults to 10. */
const DEFAULT_LIMIT = 10;
const MEMBERSHIPS = ['join', 'invite', 'knock', 'leave', 'ban'];

function readerOf(req: MatrixRequest) {
  return { userId: req.requester!.userId, deviceId: req.requester!.deviceId };
}

/** The `filter` query parameter: a RoomEventFilter as JSON. */
function filterParam(req: MatrixRequest): RoomEventFilter {
  const raw = queryString(req.query, 'filter');
  if (raw === undefined || raw === '') return parseRoomEventFilter({});
  let json: JsonValue;
  try {
    json = JSON.parse(raw) as JsonValue;
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', "The 'filter' parameter is not valid JSON");
  }
  return parseRoomEventFilter(json);
}

function enumParam<T extends string>(req: MatrixRequest, name: string, allowed: readonly T[], fallback?: T): T | undefined {
  const value = queryString(req.query, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `Query parameter '${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not '${value}'`);
  }
  return value as T;
}

export function messageRoutes({ timeline, formatter }: MessageRouteDeps): Route[] {
  return [
    /** # GET /_matrix/client/v3/rooms/{roomId}/messages */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/messages',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const page = await timeline.messages({
          userId: req.requester!.userId,
          roomId: req.params.roomId!,
          from: queryString(req.query, 'from'),
          to: queryString(req.query, 'to'),
          dir: enumParam(req, 'dir', ['b', 'f'] as const, 'b')!,
          limit: queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_LIMIT,
          filter: filterParam(req),
        });
        const body: JsonObject = { start: page.start, chunk: await formatter.format(page.chunk, readerOf(req)) };
        if (page.end !== undefined) body.end = page.end;
        if (page.state.length > 0) body.state = await formatter.format(page.state, readerOf(req), { bundleRelations: false });
        return { body };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/context/{eventId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/context/{eventId}',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const limit = queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_LIMIT;
        const result = await timeline.context(req.requester!.userId, req.params.roomId!, req.params.eventId!, limit, filterParam(req));
        const reader = readerOf(req);
        return {
          body: {
            start: result.start,
            end: result.end,
            event: await formatter.formatOne(result.event, reader),
            events_before: await formatter.format(result.before, reader),
            events_after: await formatter.format(result.after, reader),
            state: await formatter.format(result.state, reader, { bundleRelations: false }),
          },
        };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/event/{eventId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/event/{eventId}',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const event = await timeline.requireVisibleEvent(req.requester!.userId, req.params.roomId!, req.params.eventId!);
        return { body: await formatter.formatOne(event, readerOf(req)) };
      },
    },
    /**
     * # GET /_matrix/client/v3/events/{eventId}
     * Deprecated since r0 (old_sync.yaml), for clients that predate
     * /rooms/{roomId}/event/{eventId}: the same read and visibility checks.
     */
    {
      method: 'GET',
      path: '/_matrix/client/v3/events/{eventId}',
      auth: 'required',
      handler: async (req) => {
        const event = await timeline.requireVisibleEvent(req.requester!.userId, undefined, req.params.eventId!);
        return { body: await formatter.formatOne(event, readerOf(req)) };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/members */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/members',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const events = await timeline.members(req.requester!.userId, req.params.roomId!, {
          at: queryString(req.query, 'at'),
          membership: enumParam(req, 'membership', MEMBERSHIPS),
          notMembership: enumParam(req, 'not_membership', MEMBERSHIPS),
        });
        return { body: { chunk: await formatter.format(events, readerOf(req), { bundleRelations: false }) } };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/joined_members */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/joined_members',
      auth: 'required',
      handler: async (req) => {
        const events = await timeline.members(req.requester!.userId, req.params.roomId!, { membership: 'join' });
        const joined: JsonObject = {};
        for (const event of events) {
          const content = (JSON.parse(event.json) as { content: JsonObject }).content;
          // Both keys are always present, null when unset, as Synapse answers (clients index them directly).
          joined[event.stateKey!] = {
            display_name: typeof content.displayname === 'string' ? content.displayname : null,
            avatar_url: typeof content.avatar_url === 'string' ? content.avatar_url : null,
          };
        }
        return { body: { joined } };
      },
    },
    /** # GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event */
    {
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/timestamp_to_event',
      auth: 'required',
      handler: async (req) => {
        const { userId } = req.requester!;
        const roomId = req.params.roomId!;
        const ts = Number(requireQueryString(req.query, 'ts'));
        if (!Number.isSafeInteger(ts)) throw new MatrixError(400, 'M_INVALID_PARAM', "Query parameter 'ts' must be a timestamp in milliseconds");
        const dir = enumParam(req, 'dir', ['b', 'f'] as const);
        if (dir === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing required query parameter 'dir' ('b' or 'f')");
        const event = await timeline.eventNearTimestamp(userId, roomId, ts, dir);
        return { body: { event_id: event.eventId, origin_server_ts: event.originServerTs } };
      },
    },
  ];
}
