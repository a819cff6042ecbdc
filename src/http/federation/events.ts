// Reading a room's events over federation (server-server-api "Retrieving
// events", "Backfilling and retrieving missing events", "Retrieving event
// authorisation information"; data/api/server-server/events.yaml,
// backfill.yaml, event_auth.yaml).
import { invalidParam } from '../../core/errors.js';
import type { FederationRoomQueries } from '../../federation/inbound/room-queries.js';
import type { MatrixRequest, Route } from '../types.js';
import { optionalInteger, optionalStringArray, queryInteger, requireObject, requireQueryString } from '../validate.js';

const V1 = '/_matrix/federation/v1';

export function federationEventRoutes(queries: FederationRoomQueries): Route[] {
  const origin = (req: MatrixRequest): string => req.origin!;
  return [
    /** # GET /_matrix/federation/v1/event/{eventId} */
    { method: 'GET', path: `${V1}/event/{eventId}`, auth: 'federation', handler: async (req) => ({ body: await queries.event(origin(req), req.params.eventId!) }) },
    /** # GET /_matrix/federation/v1/state/{roomId} */
    {
      method: 'GET',
      path: `${V1}/state/{roomId}`,
      auth: 'federation',
      handler: async (req) => ({ body: await queries.state(origin(req), req.params.roomId!, requireQueryString(req.query, 'event_id')) }),
    },
    /** # GET /_matrix/federation/v1/state_ids/{roomId} */
    {
      method: 'GET',
      path: `${V1}/state_ids/{roomId}`,
      auth: 'federation',
      handler: async (req) => ({ body: await queries.stateIds(origin(req), req.params.roomId!, requireQueryString(req.query, 'event_id')) }),
    },
    /** # GET /_matrix/federation/v1/event_auth/{roomId}/{eventId} */
    {
      method: 'GET',
      path: `${V1}/event_auth/{roomId}/{eventId}`,
      auth: 'federation',
      handler: async (req) => ({ body: await queries.eventAuth(origin(req), req.params.roomId!, req.params.eventId!) }),
    },
    /** # GET /_matrix/federation/v1/backfill/{roomId} */
    {
      method: 'GET',
      path: `${V1}/backfill/{roomId}`,
      auth: 'federation',
      handler: async (req) => {
        const from = req.query.getAll('v');
        if (from.length === 0) throw invalidParam("Name the events to backfill from with one or more 'v' query parameters");
        const limit = queryInteger(req.query, 'limit', { min: 0 });
        if (limit === undefined) throw invalidParam("The 'limit' query parameter is required");
        return { body: await queries.backfill(origin(req), req.params.roomId!, from, limit) };
      },
    },
    /** # POST /_matrix/federation/v1/get_missing_events/{roomId} */
    {
      method: 'POST',
      path: `${V1}/get_missing_events/{roomId}`,
      auth: 'federation',
      handler: async (req) => {
        const body = requireObject(req.body);
        const request = {
          earliest: optionalStringArray(body, 'earliest_events') ?? [],
          latest: optionalStringArray(body, 'latest_events') ?? [],
          limit: optionalInteger(body, 'limit', { min: 0 }) ?? 10,
          minDepth: optionalInteger(body, 'min_depth', { min: 0 }) ?? 0,
        };
        return { body: await queries.missingEvents(origin(req), req.params.roomId!, request) };
      },
    },
    /** # GET /_matrix/federation/v1/timestamp_to_event/{roomId} */
    {
      method: 'GET',
      path: `${V1}/timestamp_to_event/{roomId}`,
      auth: 'federation',
      handler: async (req) => {
        const ts = queryInteger(req.query, 'ts', { min: 0 });
        if (ts === undefined) throw invalidParam("The 'ts' query parameter is required");
        const dir = requireQueryString(req.query, 'dir');
        if (dir !== 'f' && dir !== 'b') throw invalidParam("'dir' must be 'f' or 'b'");
        return { body: await queries.timestampToEvent(origin(req), req.params.roomId!, ts, dir) };
      },
    },
  ];
}
