// Reporting content (client-server-api/modules/report_content.md;
// report_content.yaml), and Synapse's admin APIs to read event and user reports.
import type { ReportService } from '../../services/reports.js';
import { forbidden, invalidParam } from '../../core/errors.js';
import type { ReportQuery } from '../../storage/reports.js';
import type { MatrixRequest, Route } from '../types.js';
import { optionalInteger, optionalString, queryInteger, queryString, requireObject, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

/** Synapse's default page size for event_reports and user_reports. */
const DEFAULT_ADMIN_LIMIT = 100;

/** An admin listing's `from`, `limit` and `dir` (Synapse's), after checking the requester is an admin. */
function adminListing(req: MatrixRequest): ReportQuery {
  if (!requesterOf(req).isAdmin) throw forbidden('You are not a server admin');
  const dir = queryString(req.query, 'dir') ?? 'b';
  if (dir !== 'b' && dir !== 'f') throw invalidParam(`Query parameter 'dir' must be 'b' or 'f', not '${dir}'`);
  return {
    from: queryInteger(req.query, 'from', { min: 0 }) ?? 0,
    limit: queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_ADMIN_LIMIT,
    forwards: dir === 'f',
  };
}

/** Synapse's next_token: the offset of the next page, when there is one. */
function nextToken(query: ReportQuery, returned: number, total: number): { next_token?: number } {
  return query.from + returned < total ? { next_token: query.from + returned } : {};
}

export function reportRoutes(reports: ReportService): Route[] {
  return [
    /** # POST /_matrix/client/v3/rooms/{roomId}/report/{eventId} */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/report/{eventId}',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body);
        // score was removed in v1.18 but older clients still send it; it must be in range when present.
        const score = optionalInteger(body, 'score') ?? null;
        await reports.reportEvent(req.requester!.userId, req.params.roomId!, req.params.eventId!, optionalString(body, 'reason') ?? null, score);
        return { body: {} };
      },
    },
    /** # POST /_matrix/client/v3/rooms/{roomId}/report */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/report',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const reason = requireString(requireObject(req.body), 'reason');
        await reports.reportRoom(req.requester!.userId, req.params.roomId!, reason);
        return { body: {} };
      },
    },
    /** # POST /_matrix/client/v3/users/{userId}/report */
    {
      method: 'POST',
      path: '/_matrix/client/v3/users/{userId}/report',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const reason = requireString(requireObject(req.body), 'reason');
        await reports.reportUser(requesterOf(req).userId, req.params.userId!, reason);
        return { body: {} };
      },
    },
    /** # GET /_synapse/admin/v1/event_reports */
    {
      method: 'GET',
      path: '/_synapse/admin/v1/event_reports',
      auth: 'required',
      handler: async (req) => {
        const query = adminListing(req);
        const page = await reports.listEventReports({ ...query, roomId: queryString(req.query, 'room_id'), userId: queryString(req.query, 'user_id') });
        const body = {
          event_reports: page.reports.map((r) => ({
            id: r.id,
            received_ts: r.receivedTs,
            room_id: r.roomId,
            event_id: r.eventId,
            user_id: r.userId,
            reason: r.reason,
            score: r.score,
          })),
          total: page.total,
          ...nextToken(query, page.reports.length, page.total),
        };
        return { body };
      },
    },
    /** # GET /_synapse/admin/v1/user_reports */
    {
      method: 'GET',
      path: '/_synapse/admin/v1/user_reports',
      auth: 'required',
      handler: async (req) => {
        const query = adminListing(req);
        const page = await reports.listUserReports({ ...query, targetUserId: queryString(req.query, 'target_user_id'), userId: queryString(req.query, 'user_id') });
        const body = {
          user_reports: page.reports.map((r) => ({ id: r.id, received_ts: r.receivedTs, target_user_id: r.targetUserId, user_id: r.userId, reason: r.reason })),
          total: page.total,
          ...nextToken(query, page.reports.length, page.total),
        };
        return { body };
      },
    },
  ];
}
