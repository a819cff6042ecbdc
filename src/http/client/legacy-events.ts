// The deprecated pre-/sync endpoints (data/api/client-server/old_sync.yaml,
// room_initial_sync.yaml), still used by older clients and bots.
import type { LegacySyncService } from '../../services/sync/legacy.js';
import { parseSyncToken } from '../../services/sync/token.js';
import { missingParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { queryBoolean, queryInteger, queryString } from '../validate.js';
import { requesterOf } from './uia.js';

/** Synapse's default page size for the legacy initial syncs. */
const DEFAULT_LIMIT = 10;

export function legacyEventRoutes(legacy: LegacySyncService): Route[] {
  return [
    /** # GET /_matrix/client/v3/events */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/events',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId, isGuest } = requesterOf(req);
        const from = queryString(req.query, 'from') || undefined;
        const timeout = queryInteger(req.query, 'timeout', { min: 0 }) ?? 30_000;
        const roomId = queryString(req.query, 'room_id') || undefined;
        // Not in the spec's old_sync.yaml, but Synapse takes it (and refuses a bad one) and old clients send it.
        const limit = queryInteger(req.query, 'limit', { min: 0 });
        // As Synapse: a guest follows one room at a time.
        if (isGuest && roomId === undefined) throw missingParam("Guest users must give 'room_id': the room whose events to follow");
        return { body: await legacy.events({ userId, deviceId }, from === undefined ? undefined : parseSyncToken(from), from, timeout, { roomId, limit, signal: req.signal }) };
      },
    },
    /** # GET /_matrix/client/v3/initialSync */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/initialSync',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const limit = queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_LIMIT;
        return { body: await legacy.initialSync({ userId, deviceId }, limit, queryBoolean(req.query, 'archived') ?? false) };
      },
    },
    /** # GET /_matrix/client/v3/rooms/{roomId}/initialSync */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/rooms/{roomId}/initialSync',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const limit = queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_LIMIT;
        return { body: await legacy.roomInitialSync({ userId, deviceId }, req.params.roomId!, limit) };
      },
    },
  ];
}
