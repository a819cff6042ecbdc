// Reporting content (client-server-api/modules/report_content.md;
// report_content.yaml): users flag events or rooms to the server's admins.
import { invalidParam, notFound } from '../core/errors.js';
import type { ReportPage, ReportStore } from '../storage/reports.js';
import type { RoomStore } from '../storage/rooms/index.js';

/** The spec's score range: -100 (most offensive) to 0 (inoffensive). */
export const MIN_SCORE = -100;
export const MAX_SCORE = 0;

export class ReportService {
  constructor(
    private readonly reports: ReportStore,
    private readonly rooms: RoomStore,
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

  /** Synapse's GET /_synapse/admin/v1/event_reports. */
  listEventReports(opts: { from: number; limit: number; forwards: boolean; roomId?: string; userId?: string }): Promise<ReportPage> {
    return this.reports.listEventReports(opts);
  }
}
