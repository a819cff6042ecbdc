// Content reports (client-server-api/modules/report_content.md), read back by
// server admins through Synapse's event reports admin API.
import type { Database, SqlValue } from './database.js';

export interface NewReport {
  receivedTs: number;
  roomId: string;
  /** Absent for a report of the whole room. */
  eventId?: string;
  userId: string;
  reason: string | null;
  score: number | null;
}

export interface StoredReport extends Required<Omit<NewReport, 'eventId'>> {
  id: number;
  eventId: string | null;
}

export interface ReportPage {
  reports: StoredReport[];
  total: number;
}

interface ReportRow {
  id: number;
  received_ts: number;
  room_id: string;
  event_id: string | null;
  user_id: string;
  reason: string | null;
  score: number | null;
}

export class ReportStore {
  constructor(private readonly db: Database) {}

  async add(report: NewReport): Promise<number> {
    const row = await this.db.queryOne<{ id: number }>(
      `INSERT INTO content_reports (received_ts, room_id, event_id, user_id, reason, score) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      [report.receivedTs, report.roomId, report.eventId ?? null, report.userId, report.reason, report.score],
    );
    return Number(row!.id);
  }

  /** Event reports (not room reports), newest first unless `forwards`; `from` is an offset. */
  async listEventReports(opts: { from: number; limit: number; forwards: boolean; roomId?: string; userId?: string }): Promise<ReportPage> {
    const conditions = ['event_id IS NOT NULL'];
    const params: SqlValue[] = [];
    if (opts.roomId !== undefined) {
      conditions.push('room_id = ?');
      params.push(opts.roomId);
    }
    if (opts.userId !== undefined) {
      conditions.push('user_id = ?');
      params.push(opts.userId);
    }
    const where = conditions.join(' AND ');
    const total = await this.db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM content_reports WHERE ${where}`, params);
    const direction = opts.forwards ? 'ASC' : 'DESC';
    const rows = await this.db.query<ReportRow>(
      `SELECT id, received_ts, room_id, event_id, user_id, reason, score FROM content_reports WHERE ${where}
       ORDER BY received_ts ${direction}, id ${direction} LIMIT ? OFFSET ?`,
      [...params, opts.limit, opts.from],
    );
    return {
      total: Number(total?.n ?? 0),
      reports: rows.map((r) => ({
        id: Number(r.id),
        receivedTs: Number(r.received_ts),
        roomId: r.room_id,
        eventId: r.event_id,
        userId: r.user_id,
        reason: r.reason,
        score: r.score === null ? null : Number(r.score),
      })),
    };
  }
}
