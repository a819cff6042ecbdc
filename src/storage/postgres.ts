// PostgreSQL engine over a `pg` pool sized by Synapse's cp_min / cp_max.
import pg from 'pg';
import { TransactionScope, type Database, type PoolStats, type Queryable, type Row, type SqlValue } from './database.js';

// BIGINT columns hold stream positions and timestamps, all below 2^53: read
// them as numbers, as the SQLite engine does.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface PostgresOptions {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database: string;
  poolMin?: number;
  poolMax?: number;
}

/** Rewrites `?` placeholders as `$1, $2, …`, leaving quoted text alone. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

const rewritten = new Map<string, string>();
function toPg(sql: string): string {
  let text = rewritten.get(sql);
  if (text === undefined) {
    text = numberPlaceholders(sql);
    if (rewritten.size > 2000) rewritten.clear();
    rewritten.set(sql, text);
  }
  return text;
}

function pgParams(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : typeof p === 'bigint' ? p.toString() : p));
}

class ClientQueryable implements Queryable {
  constructor(private readonly client: pg.PoolClient | pg.Pool) {}

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const result = await this.client.query(toPg(sql), pgParams(params));
    return result.rows as T[];
  }
  async queryOne<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }
  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const result = await this.client.query(toPg(sql), pgParams(params));
    return { changes: result.rowCount ?? 0 };
  }
}

export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly poolQueryable: ClientQueryable;
  private readonly currentTransaction = new TransactionScope();

  constructor(options: PostgresOptions) {
    this.pool = new pg.Pool({
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      database: options.database,
      min: options.poolMin ?? 1,
      max: options.poolMax ?? 10,
    });
    // An idle client losing its connection must not take the process down.
    this.pool.on('error', () => undefined);
    this.poolQueryable = new ClientQueryable(this.pool);
  }

  /** Fails fast with the server's own words if the database cannot be reached. */
  async connect(): Promise<void> {
    const client = await this.pool.connect();
    client.release();
  }

  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return (this.currentTransaction.current() ?? this.poolQueryable).query<T>(sql, params);
  }
  queryOne<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (this.currentTransaction.current() ?? this.poolQueryable).queryOne<T>(sql, params);
  }
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return (this.currentTransaction.current() ?? this.poolQueryable).execute(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.currentTransaction.current();
    if (outer) return fn(outer);
    const client = await this.pool.connect();
    const tx = new ClientQueryable(client);
    try {
      await client.query('BEGIN');
      return await this.currentTransaction.run(tx, () => fn(tx), async () => {
        await client.query('COMMIT');
      });
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  afterCommit(task: () => void): void {
    this.currentTransaction.afterCommit(task);
  }

  /** Runs a multi-statement script (migrations). */
  async exec(sql: string): Promise<void> {
    await (this.currentTransaction.current() ?? this.poolQueryable).execute(sql);
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
