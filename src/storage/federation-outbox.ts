// The federation outbox and each destination's delivery health (migration 21).
import type { Database } from './database.js';
import { insertRows, placeholders } from './rooms/sql.js';

export type OutboxKind = 'pdu' | 'edu';

export interface OutboxItem {
  id: number;
  kind: OutboxKind;
  /** An event ID for a PDU; the EDU's JSON for an EDU. */
  payload: string;
}

export interface DestinationHealth {
  destination: string;
  failures: number;
  /** No attempt before this time (back-off); 0 when healthy. */
  retryAfterTs: number;
  lastSuccessTs: number | null;
  lastFailureTs: number | null;
  lastError: string | null;
}

export class FederationOutboxStore {
  constructor(private readonly db: Database) {}

  /** Queues one item for each destination (inside the caller's transaction, if any). */
  async enqueue(destinations: readonly string[], kind: OutboxKind, payload: string, now: number): Promise<void> {
    await insertRows(this.db, 'federation_outbox', ['destination', 'kind', 'payload', 'queued_ts'], destinations.map((d) => [d, kind, payload, now]));
  }

  /** The oldest queued items for a destination: at most `pdus` PDUs and `edus` EDUs, in queue order. */
  async next(destination: string, pdus: number, edus: number): Promise<OutboxItem[]> {
    const read = (kind: OutboxKind, limit: number) =>
      this.db.query<{ id: number; kind: OutboxKind; payload: string }>(
        'SELECT id, kind, payload FROM federation_outbox WHERE destination = ? AND kind = ? ORDER BY id LIMIT ?',
        [destination, kind, limit],
      );
    const rows = [...(await read('pdu', pdus)), ...(await read('edu', edus))];
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, payload: r.payload })).sort((a, b) => a.id - b.id);
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(`DELETE FROM federation_outbox WHERE id IN (${placeholders(ids.length)})`, [...ids]);
  }

  /** Destinations with something queued (to resume after a restart). */
  async destinationsWithBacklog(): Promise<string[]> {
    const rows = await this.db.query<{ destination: string }>('SELECT DISTINCT destination FROM federation_outbox ORDER BY destination');
    return rows.map((r) => r.destination);
  }

  async backlog(destination: string): Promise<number> {
    const row = await this.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM federation_outbox WHERE destination = ?', [destination]);
    return Number(row?.n ?? 0);
  }

  /** Everything queued, by kind, over all destinations (for the metrics endpoint). */
  async pendingByKind(): Promise<Record<OutboxKind, number>> {
    const rows = await this.db.query<{ kind: OutboxKind; n: number }>('SELECT kind, COUNT(*) AS n FROM federation_outbox GROUP BY kind');
    const counts: Record<OutboxKind, number> = { pdu: 0, edu: 0 };
    for (const row of rows) counts[row.kind] = Number(row.n);
    return counts;
  }

  async health(destination: string): Promise<DestinationHealth | undefined> {
    const row = await this.db.queryOne<HealthRow>(`SELECT ${HEALTH_COLUMNS} FROM federation_destinations WHERE destination = ?`, [destination]);
    return row && toHealth(row);
  }

  async allHealth(): Promise<DestinationHealth[]> {
    return (await this.db.query<HealthRow>(`SELECT ${HEALTH_COLUMNS} FROM federation_destinations ORDER BY destination`)).map(toHealth);
  }

  async recordSuccess(destination: string, now: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO federation_destinations (destination, failures, retry_after_ts, last_success_ts) VALUES (?, 0, 0, ?)
       ON CONFLICT (destination) DO UPDATE SET failures = 0, retry_after_ts = 0, last_success_ts = excluded.last_success_ts`,
      [destination, now],
    );
  }

  async recordFailure(destination: string, now: number, retryAfterTs: number, error: string): Promise<number> {
    const row = await this.db.queryOne<{ failures: number }>(
      `INSERT INTO federation_destinations (destination, failures, retry_after_ts, last_failure_ts, last_error) VALUES (?, 1, ?, ?, ?)
       ON CONFLICT (destination) DO UPDATE SET failures = federation_destinations.failures + 1, retry_after_ts = excluded.retry_after_ts,
         last_failure_ts = excluded.last_failure_ts, last_error = excluded.last_error
       RETURNING failures`,
      [destination, retryAfterTs, now, error],
    );
    return Number(row?.failures ?? 1);
  }

  /** Lifts a destination's back-off (it has just shown it is up). */
  async clearBackoff(destination: string): Promise<void> {
    await this.db.execute('UPDATE federation_destinations SET retry_after_ts = 0 WHERE destination = ?', [destination]);
  }
}

const HEALTH_COLUMNS = 'destination, failures, retry_after_ts, last_success_ts, last_failure_ts, last_error';

interface HealthRow {
  destination: string;
  failures: number;
  retry_after_ts: number;
  last_success_ts: number | null;
  last_failure_ts: number | null;
  last_error: string | null;
}

function toHealth(row: HealthRow): DestinationHealth {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    destination: row.destination,
    failures: Number(row.failures),
    retryAfterTs: Number(row.retry_after_ts),
    lastSuccessTs: num(row.last_success_ts),
    lastFailureTs: num(row.last_failure_ts),
    lastError: row.last_error,
  };
}
