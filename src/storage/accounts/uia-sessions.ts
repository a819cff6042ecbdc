// User-interactive auth sessions: which operation they authorise, which
// stages are done, and the registration token whose use they hold.
import type { Database } from '../database.js';

export interface UiaSession {
  sessionId: string;
  /** What the session authorises, e.g. 'register' or 'deactivate:@alice:example.org'. */
  operation: string;
  completedStages: string[];
  registrationToken: string | null;
  createdTs: number;
}

interface SessionRow {
  session_id: string;
  operation: string;
  completed_stages: string;
  registration_token: string | null;
  created_ts: number;
}

export class UiaSessionStore {
  constructor(private readonly db: Database) {}

  async create(sessionId: string, operation: string, createdTs: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO uia_sessions (session_id, operation, completed_stages, registration_token, created_ts) VALUES (?, ?, ?, NULL, ?)',
      [sessionId, operation, '[]', createdTs],
    );
  }

  async get(sessionId: string): Promise<UiaSession | undefined> {
    const row = await this.db.queryOne<SessionRow>(
      'SELECT session_id, operation, completed_stages, registration_token, created_ts FROM uia_sessions WHERE session_id = ?',
      [sessionId],
    );
    return row && toSession(row);
  }

  async setCompletedStages(sessionId: string, stages: readonly string[]): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET completed_stages = ? WHERE session_id = ?', [JSON.stringify(stages), sessionId]);
  }

  async setRegistrationToken(sessionId: string, token: string): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET registration_token = ? WHERE session_id = ?', [token, sessionId]);
  }

  /** False when the session was already gone. */
  async delete(sessionId: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM uia_sessions WHERE session_id = ?', [sessionId])).changes === 1;
  }

  /** Sessions created before `ts`, for expiry. */
  async listCreatedBefore(ts: number): Promise<UiaSession[]> {
    const rows = await this.db.query<SessionRow>(
      'SELECT session_id, operation, completed_stages, registration_token, created_ts FROM uia_sessions WHERE created_ts < ?',
      [ts],
    );
    return rows.map(toSession);
  }
}

function toSession(row: SessionRow): UiaSession {
  return {
    sessionId: row.session_id,
    operation: row.operation,
    completedStages: JSON.parse(row.completed_stages) as string[],
    registrationToken: row.registration_token,
    createdTs: Number(row.created_ts),
  };
}
