// Runs a test body against both engines: a SQLite file in a fresh temp dir,
// and a fresh PostgreSQL database on 127.0.0.1:5432 that is dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import type { Database, Engine } from '../../src/storage/database.js';
import { openDatabase, type DatabaseTarget } from '../../src/storage/open.js';

export const PG_ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

export interface TestDatabase {
  engine: Engine;
  target: DatabaseTarget;
  /** Drops the database (PostgreSQL) or deletes its directory (SQLite). */
  destroy(): Promise<void>;
}

export async function createTestDatabaseTarget(engine: Engine): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'axon-test-'));
    return {
      engine,
      target: { engine: 'sqlite', path: join(dir, 'homeserver.db') },
      destroy: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `axon_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(PG_ADMIN);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    engine,
    target: { engine: 'postgres', host: PG_ADMIN.host, port: PG_ADMIN.port, user: PG_ADMIN.user, database: name, poolMax: 5 },
    destroy: async () => {
      const client = new pg.Client(PG_ADMIN);
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

/** Opens a migrated database of `engine`, runs `fn`, then closes and destroys it. */
export async function withDatabase<T>(engine: Engine, fn: (db: Database) => Promise<T>): Promise<T> {
  const test = await createTestDatabaseTarget(engine);
  const db = await openDatabase(test.target);
  try {
    return await fn(db);
  } finally {
    await db.close();
    await test.destroy();
  }
}

/**
 * For a describe block: a fresh migrated database of `engine`, opened before
 * its tests (ahead of the block's own `before` hooks) and closed and
 * destroyed after them. Read `.db` from a hook or test.
 */
export function useTestDatabase(engine: Engine): { readonly db: Database } {
  let test: TestDatabase | undefined;
  let db: Database | undefined;
  before(async () => {
    test = await createTestDatabaseTarget(engine);
    db = await openDatabase(test.target);
  });
  after(async () => {
    await db?.close();
    await test?.destroy();
  });
  return {
    get db(): Database {
      if (!db) throw new Error('useTestDatabase: the database opens in a before hook; read .db from a hook or test');
      return db;
    },
  };
}
