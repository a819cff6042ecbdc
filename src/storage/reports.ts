// Content reports (client-server-api/modules/report_content.md): reports of
// events and rooms (content_reports) and of users (user_reports), read back
// by server admins through Synapse's event_reports and user_reports admin APIs.
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

export interface NewUserReport {
  receivedTs: number;
  /** The user reported. */
  targetUserId: string;
  /** The user who reported them. */
  userId: string;
  reason: string;
}

export interface StoredUserReport extends NewUserReport {
  id: number;
}

export interface ReportPage<T = StoredReport> {
  reports: T[];
  total: number;
}

/** Offset paging, newest first unless `forwards`, optionally filtered by exact user IDs. */
export interface ReportQuery {
  from: number;
  limit: number;
  forwards: boolean;
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

interface UserReportRow {
  id: number;
  received_ts: number;
  target_user_id: string;
  user_id: string;
  reason: string;
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

  async addUserReport(report: NewUserReport): Promise<number> {
    const row = await this.db.queryOne<{ id: number }>(
      'INSERT INTO user_reports (received_ts, target_user_id, user_id, reason) VALUES (?, ?, ?, ?) RETURNING id',
      [report.receivedTs, report.targetUserId, report.userId, report.reason],
    );
    return Number(row!.id);
  }

  /** Event reports (not room reports). */
  async listEventReports(opts: ReportQuery & { roomId?: string; userId?: string }): Promise<ReportPage> {
    const page = await this.page<ReportRow>('content_reports', 'id, received_ts, room_id, event_id, user_id, reason, score', opts, ['event_id IS NOT NULL'], {
      room_id: opts.roomId,
      user_id: opts.userId,
    });
    return {
      total: page.total,
      reports: page.rows.map((r) => ({
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

  async listUserReports(opts: ReportQuery & { targetUserId?: string; userId?: string }): Promise<ReportPage<StoredUserReport>> {
    const page = await this.page<UserReportRow>('user_reports', 'id, received_ts, target_user_id, user_id, reason', opts, [], {
      target_user_id: opts.targetUserId,
      user_id: opts.userId,
    });
    return {
      total: page.total,
      reports: page.rows.map((r) => ({ id: Number(r.id), receivedTs: Number(r.received_ts), targetUserId: r.target_user_id, userId: r.user_id, reason: r.reason })),
    };
  }

  /** One page of `table` by received_ts (then id), with its total, under `conditions` and the set `equals` filters. */
  private async page<Row>(
    table: string,
    columns: string,
    opts: ReportQuery,
    conditions: string[],
    equals: Record<string, string | undefined>,
  ): Promise<{ rows: Row[]; total: number }> {
    const clauses = [...conditions];
    const params: SqlValue[] = [];
    for (const [column, value] of Object.entries(equals)) {
      if (value === undefined) continue;
      clauses.push(`${column} = ?`);
      params.push(value);
    }
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
    const total = await this.db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} ${where}`, params);
    const direction = opts.forwards ? 'ASC' : 'DESC';
    const rows = await this.db.query<Row>(
      `SELECT ${columns} FROM ${table} ${where} ORDER BY received_ts ${direction}, id ${direction} LIMIT ? OFFSET ?`,
      [...params, opts.limit, opts.from],
    );
    return { rows, total: Number(total?.n ?? 0) };
  }
}
