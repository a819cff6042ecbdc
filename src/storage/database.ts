import { AsyncLocalStorage } from 'node:async_hooks';

// The one SQL seam both engines implement. Stores write portable SQL with `?`
// placeholders; the PostgreSQL engine numbers them. Everything above this file
// is engine-agnostic.

export type SqlValue = string | number | bigint | boolean | null | Buffer | Uint8Array;
export type Row = Record<string, unknown>;

export interface Queryable {
  /** Rows of a statement (SELECT, or anything with RETURNING). */
  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  queryOne<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement run for its effect; `changes` counts affected rows. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export type Engine = 'sqlite' | 'postgres';

export interface Database extends Queryable {
  readonly engine: Engine;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when
   * it throws. Calls to the database's own methods made inside `fn` (even
   * through other helpers) join the same transaction rather than deadlocking.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `task` once the transaction the caller is in has committed, and
   * never if it rolls back; outside a transaction, at once. For effects
   * others must not see before the data (a push to a phone, dropping a
   * cache entry a concurrent reader could refill with the old row). A task
   * must not throw.
   */
  afterCommit(task: () => void): void;
  /** How busy the connections are, for the metrics endpoint. Cheap: no I/O. */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/**
 * Connections open, those idle, and callers waiting for one. PostgreSQL:
 * the pool's. SQLite: the writer and the reader; callers wait only for the
 * writer, which one transaction holds at a time.
 */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** A unique-constraint violation, in either engine's words. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The transaction the current async call chain runs in, so that calls made
 * on the database inside `transaction(fn)` join it. Work that `fn` starts in
 * the background (and that outlives it) must not keep using a finished
 * transaction: once `fn` returns, the scope is closed and such calls take the
 * ordinary path.
 */
export class TransactionScope {
  private readonly storage = new AsyncLocalStorage<{ tx: Queryable; open: boolean; committed: Array<() => void> }>();

  current(): Queryable | undefined {
    const scope = this.storage.getStore();
    return scope?.open ? scope.tx : undefined;
  }

  /** Runs `fn` as the transaction `tx`, then `commit`, then the tasks `fn` left for after the commit. */
  async run<T>(tx: Queryable, fn: () => Promise<T>, commit: () => Promise<void>): Promise<T> {
    const scope = { tx, open: true, committed: [] as Array<() => void> };
    let result: T;
    try {
      result = await this.storage.run(scope, fn);
    } finally {
      scope.open = false;
    }
    await commit();
    for (const task of scope.committed) task();
    return result;
  }

  afterCommit(task: () => void): void {
    const scope = this.storage.getStore();
    if (scope?.open) scope.committed.push(task);
    else task();
  }
}
