// User-interactive auth sessions: which operation they authorise, which
// stages are done, the registration token whose use they hold, what the
// request that started them asked for, and the user a registration created.
import type { JsonObject } from '../../core/types.js';
import type { Database } from '../database.js';

export interface UiaSession {
  sessionId: string;
  /** What the session authorises, e.g. 'register' or 'deactivate:@alice:example.org'. */
  operation: string;
  completedStages: string[];
  registrationToken: string | null;
  /** What the operation remembers between the session's requests (e.g. /register's parameters). */
  data: JsonObject | null;
  /** The account a registration through this session created. */
  registeredUserId: string | null;
  createdTs: number;
}

interface SessionRow {
  session_id: string;
  operation: string;
  completed_stages: string;
  registration_token: string | null;
  data: string | null;
  registered_user_id: string | null;
  created_ts: number;
}

const COLUMNS = 'session_id, operation, completed_stages, registration_token, data, registered_user_id, created_ts';

/** Stands for "a registration is under way" inside the transaction that claims the session; never committed. */
const REGISTERING = '';

export class UiaSessionStore {
  constructor(private readonly db: Database) {}

  async create(sessionId: string, operation: string, createdTs: number, data: JsonObject | null = null): Promise<void> {
    await this.db.execute(
      'INSERT INTO uia_sessions (session_id, operation, completed_stages, registration_token, data, created_ts) VALUES (?, ?, ?, NULL, ?, ?)',
      [sessionId, operation, '[]', data === null ? null : JSON.stringify(data), createdTs],
    );
  }

  async get(sessionId: string): Promise<UiaSession | undefined> {
    const row = await this.db.queryOne<SessionRow>(`SELECT ${COLUMNS} FROM uia_sessions WHERE session_id = ?`, [sessionId]);
    return row && toSession(row);
  }

  async setCompletedStages(sessionId: string, stages: readonly string[]): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET completed_stages = ? WHERE session_id = ?', [JSON.stringify(stages), sessionId]);
  }

  async setRegistrationToken(sessionId: string, token: string | null): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET registration_token = ? WHERE session_id = ?', [token, sessionId]);
  }

  async setData(sessionId: string, data: JsonObject): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET data = ? WHERE session_id = ?', [JSON.stringify(data), sessionId]);
  }

  /**
   * Claims the session for one registration, inside the registering
   * transaction; false when another request already registered through it
   * (on PostgreSQL a concurrent claim waits for that one to commit).
   */
  async claimForRegistration(sessionId: string): Promise<boolean> {
    const { changes } = await this.db.execute(
      'UPDATE uia_sessions SET registered_user_id = ? WHERE session_id = ? AND registered_user_id IS NULL',
      [REGISTERING, sessionId],
    );
    return changes === 1;
  }

  async setRegisteredUser(sessionId: string, userId: string): Promise<void> {
    await this.db.execute('UPDATE uia_sessions SET registered_user_id = ? WHERE session_id = ?', [userId, sessionId]);
  }

  /** False when the session was already gone. */
  async delete(sessionId: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM uia_sessions WHERE session_id = ?', [sessionId])).changes === 1;
  }

  /** Sessions created before `ts`, for expiry. */
  async listCreatedBefore(ts: number): Promise<UiaSession[]> {
    const rows = await this.db.query<SessionRow>(`SELECT ${COLUMNS} FROM uia_sessions WHERE created_ts < ?`, [ts]);
    return rows.map(toSession);
  }
}

function toSession(row: SessionRow): UiaSession {
  return {
    sessionId: row.session_id,
    operation: row.operation,
    completedStages: JSON.parse(row.completed_stages) as string[],
    registrationToken: row.registration_token,
    data: row.data === null ? null : (JSON.parse(row.data) as JsonObject),
    registeredUserId: row.registered_user_id,
    createdTs: Number(row.created_ts),
  };
}
