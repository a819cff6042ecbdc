// Stream counters of the e2ee area. Advanced inside the writer's transaction:
// the counter row stays locked until commit, so positions become visible in
// the order they were handed out (see account_counters in 0001).
import type { Queryable } from '../database.js';

export type E2eeStream = 'to_device_stream' | 'device_lists_stream';

/** Reserves `count` positions and returns the last; the range is (last - count, last]. */
export async function reservePositions(tx: Queryable, stream: E2eeStream, count = 1): Promise<number> {
  const row = await tx.queryOne<{ value: number }>('UPDATE e2e_counters SET value = value + ? WHERE name = ? RETURNING value', [count, stream]);
  if (!row) throw new Error(`e2e_counters has no '${stream}' row; migration 0008 did not run completely`);
  return Number(row.value);
}

export async function currentPosition(q: Queryable, stream: E2eeStream): Promise<number> {
  const row = await q.queryOne<{ value: number }>('SELECT value FROM e2e_counters WHERE name = ?', [stream]);
  return Number(row?.value ?? 0);
}
