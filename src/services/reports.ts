// Reporting content (client-server-api/modules/report_content.md;
// report_content.yaml): users flag events, rooms or other users to the
// server's admins.
import { parseUserId } from '../core/identifiers.js';
import { badJson, invalidParam, notFound } from '../core/errors.js';
import type { UserStore } from '../storage/accounts/users.js';
import type { ReportPage, ReportQuery, ReportStore, StoredUserReport } from '../storage/reports.js';
import type { RoomStore } from '../storage/rooms/index.js';

/** The spec's score range: -100 (most offensive) to 0 (inoffensive). */
export const MIN_SCORE = -100;
export const MAX_SCORE = 0;
/** Synapse's cap on the reason of a user report. */
export const MAX_USER_REPORT_REASON = 1000;

export class ReportService {
  constructor(
    private readonly reports: ReportStore,
    private readonly rooms: RoomStore,
    private readonly users: Pick<UserStore, 'exists'>,
    private readonly serverName: string,
    private readonly clock: () => number,
  ) {}

  /**
   * POST /rooms/{roomId}/report/{eventId}. The reporter must be joined to the
   * room and the event must be in it; otherwise 404, so that a report cannot
   * probe for events the reporter could not see.
   */
  async reportEvent(userId: string, roomId: string, eventId: string, reason: string | null, score: number | null): Promise<void> {
    if (score !== null && (score < MIN_SCORE || score > MAX_SCORE)) {
      throw invalidParam(`'score' must be between ${MIN_SCORE} and ${MAX_SCORE}, not ${score}`);
    }
    const membership = await this.rooms.memberships.getMembership(roomId, userId);
    const event = await this.rooms.events.getEvent(eventId);
    if (membership?.membership !== 'join' || !event || event.roomId !== roomId || event.outlier) {
      throw notFound(`Event ${eventId} not found in ${roomId}, or you are not joined to that room`);
    }
    await this.reports.add({ receivedTs: this.clock(), roomId, eventId, userId, reason, score });
  }

  /** POST /rooms/{roomId}/report: the caller need not be in the room, but it must exist here. */
  async reportRoom(userId: string, roomId: string, reason: string): Promise<void> {
    if (!(await this.rooms.rooms.getRoom(roomId))) throw notFound(`Room ${roomId} not found`);
    await this.reports.add({ receivedTs: this.clock(), roomId, userId, reason, score: null });
  }

  /**
   * POST /users/{userId}/report. As Synapse does, a report about a user of
   * another server or one that does not exist is accepted and dropped, so
   * that reports cannot probe which users exist (report_content.yaml lets
   * the 200 stand for "not disclosed").
   */
  async reportUser(reporter: string, targetUserId: string, reason: string): Promise<void> {
    if (reason.length > MAX_USER_REPORT_REASON) throw badJson(`'reason' must be at most ${MAX_USER_REPORT_REASON} characters`);
    const target = parseUserId(targetUserId);
    if (!target) throw invalidParam(`'${targetUserId}' is not a valid user ID`);
    if (target.serverName !== this.serverName || !(await this.users.exists(targetUserId))) return;
    await this.reports.addUserReport({ receivedTs: this.clock(), targetUserId, userId: reporter, reason });
  }

  /** Synapse's GET /_synapse/admin/v1/event_reports. */
  listEventReports(opts: ReportQuery & { roomId?: string; userId?: string }): Promise<ReportPage> {
    return this.reports.listEventReports(opts);
  }

  /** Synapse's GET /_synapse/admin/v1/user_reports. */
  listUserReports(opts: ReportQuery & { targetUserId?: string; userId?: string }): Promise<ReportPage<StoredUserReport>> {
    return this.reports.listUserReports(opts);
  }
}
