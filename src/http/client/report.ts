// Reporting content (client-server-api/modules/report_content.md;
// report_content.yaml), and Synapse's admin API to read event reports.
import type { ReportService } from '../../services/reports.js';
import { forbidden, invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalInteger, optionalString, queryInteger, queryString, requireObject, requireString } from '../validate.js';

/** Synapse's default page size for event_reports. */
const DEFAULT_ADMIN_LIMIT = 100;

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
    /** # GET /_synapse/admin/v1/event_reports */
    {
      method: 'GET',
      path: '/_synapse/admin/v1/event_reports',
      auth: 'required',
      handler: async (req) => {
        if (!req.requester!.isAdmin) throw forbidden('You are not a server admin');
        const from = queryInteger(req.query, 'from', { min: 0 }) ?? 0;
        const limit = queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_ADMIN_LIMIT;
        const dir = queryString(req.query, 'dir') ?? 'b';
        if (dir !== 'b' && dir !== 'f') throw invalidParam(`Query parameter 'dir' must be 'b' or 'f', not '${dir}'`);
        const page = await reports.listEventReports({
          from,
          limit,
          forwards: dir === 'f',
          roomId: queryString(req.query, 'room_id'),
          userId: queryString(req.query, 'user_id'),
        });
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
          ...(from + page.reports.length < page.total && { next_token: from + page.reports.length }),
        };
        return { body };
      },
    },
  ];
}
