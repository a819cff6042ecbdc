// Small helpers for the multi-row statements the room stores issue. Both
// engines cap bound parameters per statement (SQLite 32766, PostgreSQL 65535),
// so long lists are split into chunks well below either limit.
import type { Queryable, SqlValue } from '../database.js';

const MAX_PARAMS_PER_STATEMENT = 5000;

/** `?, ?, ?` for `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Chunk size for lists bound `paramsPerItem` values each. */
export function chunkSizeFor(paramsPerItem: number): number {
  return Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / paramsPerItem));
}

/**
 * Inserts `rows` (each one value per column) with as few statements as the
 * parameter limits allow. `suffix` is appended verbatim, e.g.
 * `ON CONFLICT DO NOTHING`.
 */
export async function insertRows(
  q: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  suffix = '',
): Promise<void> {
  const rowSql = `(${placeholders(columns.length)})`;
  for (const chunk of chunks(rows, chunkSizeFor(columns.length))) {
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => rowSql).join(', ')} ${suffix}`;
    await q.execute(sql, chunk.flat());
  }
}

/** Runs `select(chunk)` over chunks of `values` and concatenates the rows. */
export async function queryInChunks<T, V>(
  values: readonly V[],
  select: (chunk: V[]) => Promise<T[]>,
  paramsPerValue = 1,
): Promise<T[]> {
  const out: T[] = [];
  for (const chunk of chunks(values, chunkSizeFor(paramsPerValue))) out.push(...(await select(chunk)));
  return out;
}

/** Reads an INTEGER 0/1 flag column. */
export function flag(value: unknown): boolean {
  return Number(value) !== 0;
}

/**
 * A LIKE pattern (with ESCAPE '\\') matching `text` anywhere, lower-cased for
 * a comparison with LOWER(column), LIKE's own wildcards in it taken literally.
 */
export function likeContaining(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
