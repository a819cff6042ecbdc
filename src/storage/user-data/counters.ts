// Stream counters of the user-data area (receipts, presence). Advanced inside
// the writer's transaction: the counter row stays locked until commit, so a
// reader never sees position N+1 committed while N is still in flight.
import type { Queryable } from '../database.js';

export type UserDataStream = 'receipts_stream' | 'presence_stream';

export async function nextPosition(tx: Queryable, stream: UserDataStream): Promise<number> {
  const row = await tx.queryOne<{ value: number }>('UPDATE user_data_counters SET value = value + 1 WHERE name = ? RETURNING value', [stream]);
  if (!row) throw new Error(`user_data_counters has no '${stream}' row; migration 0004 did not run completely`);
  return Number(row.value);
}

export async function currentPosition(q: Queryable, stream: UserDataStream): Promise<number> {
  const row = await q.queryOne<{ value: number }>('SELECT value FROM user_data_counters WHERE name = ?', [stream]);
  return Number(row?.value ?? 0);
}
