// SQLite engine over better-sqlite3, in WAL mode. better-sqlite3 is synchronous,
// so one connection writes (behind an async mutex, because a transaction may
// await between statements) and a second one serves reads, which in WAL mode
// see only committed data and never wait on the writer. Disk syncs and
// checkpoints happen off the event loop (sqlite-wal.ts).
import { createRequire } from 'node:module';
import BetterSqlite3 from 'better-sqlite3';
import { WalCheckpointer, WalFlusher } from './sqlite-wal.js';
import { TransactionScope, type Database, type PoolStats, type Queryable, type Row, type SqlValue } from './database.js';

type Connection = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[], unknown>;

const STATEMENT_CACHE_LIMIT = 500;

class StatementCache {
  private readonly statements = new Map<string, Statement>();
  constructor(private readonly connection: Connection) {}

  get(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.connection.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** A FIFO async lock: the writer connection runs one transaction at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  /** Callers holding the lock or waiting for it. */
  private pending = 0;

  async lock(): Promise<() => void> {
    this.pending++;
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => next);
    await previous;
    return () => {
      this.pending--;
      release();
    };
  }

  get held(): boolean {
    return this.pending > 0;
  }

  get waiting(): number {
    return Math.max(0, this.pending - 1);
  }
}

function bindable(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

function runStatement(statement: Statement, params: readonly SqlValue[]): { rows: Row[]; changes: number } {
  if (statement.reader) return { rows: statement.all(...bindable(params)) as Row[], changes: 0 };
  return { rows: [], changes: statement.run(...bindable(params)).changes };
}

class ConnectionQueryable implements Queryable {
  constructor(private readonly cache: StatementCache) {}

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return runStatement(this.cache.get(sql), params).rows as T[];
  }
  async queryOne<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }
  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: runStatement(this.cache.get(sql), params).changes };
  }
}

export class SqliteDatabase implements Database {
  readonly engine = 'sqlite' as const;
  private readonly writer: Connection;
  private readonly reader: Connection;
  private readonly writerQueryable: ConnectionQueryable;
  private readonly readerCache: StatementCache;
  private readonly writeLock = new Mutex();
  private readonly currentTransaction = new TransactionScope();
  private readonly checkpointer?: WalCheckpointer;
  private readonly flusher?: WalFlusher;

  constructor(path: string) {
    this.writer = new BetterSqlite3(path);
    this.writer.pragma('journal_mode = WAL');
    // No fsync inside COMMIT: every write waits for WalFlusher before it
    // returns, so nothing is acknowledged before it is on disk (as FULL).
    // An in-memory database has nothing to flush.
    this.writer.pragma('synchronous = NORMAL');
    this.writer.pragma('foreign_keys = ON');
    this.writer.pragma('busy_timeout = 5000');
    // An in-memory database exists only on its own connection.
    this.reader = path === ':memory:' ? this.writer : new BetterSqlite3(path, { readonly: true });
    if (this.reader !== this.writer) this.reader.pragma('busy_timeout = 5000');
    this.writerQueryable = new ConnectionQueryable(new StatementCache(this.writer));
    this.readerCache = new StatementCache(this.reader);
    if (path !== ':memory:') {
      this.flusher = new WalFlusher(path);
      this.writer.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(path, createRequire(import.meta.url).resolve('better-sqlite3'), (message) =>
        process.emitWarning(`SQLite checkpoint of ${path} failed: ${message}`),
      );
    }
  }

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const tx = this.currentTransaction.current();
    if (tx) return tx.query<T>(sql, params);
    const statement = this.readerCache.get(sql);
    if (statement.readonly) return runStatement(statement, params).rows as T[];
    return this.withWriter((w) => w.query<T>(sql, params));
  }

  async queryOne<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const tx = this.currentTransaction.current();
    if (tx) return tx.execute(sql, params);
    return this.withWriter((w) => w.execute(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.currentTransaction.current();
    if (outer) return fn(outer);
    return this.withWriter(async (w) => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        return await this.currentTransaction.run(w, () => fn(w), async () => {
          this.writer.exec('COMMIT');
        });
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
    });
  }

  afterCommit(task: () => void): void {
    this.currentTransaction.afterCommit(task);
  }

  /** Runs a multi-statement script (migrations) on the writer. */
  async exec(sql: string): Promise<void> {
    await this.withWriter(async () => this.writer.exec(sql));
  }

  poolStats(): PoolStats {
    const total = this.reader === this.writer ? 1 : 2;
    return { total, idle: total - (this.writeLock.held ? 1 : 0), waiting: this.writeLock.waiting };
  }

  async close(): Promise<void> {
    const release = await this.writeLock.lock();
    try {
      await this.flusher?.close();
      await this.checkpointer?.close();
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    } finally {
      release();
    }
  }

  /**
   * Runs `fn` with the writer connection to itself, then waits until what it
   * wrote is on disk: the lock is released first, so the next transaction
   * runs during the sync and commits made meanwhile share the next one.
   */
  private async withWriter<T>(fn: (w: ConnectionQueryable) => Promise<T>): Promise<T> {
    const release = await this.writeLock.lock();
    let result: T;
    try {
      result = await fn(this.writerQueryable);
    } finally {
      release();
    }
    this.checkpointer?.wrote();
    await this.flusher?.flush();
    return result;
  }
}
