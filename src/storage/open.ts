// Opens the configured engine and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from './database.js';
import { runMigrations } from './migrations/index.js';
import { PostgresDatabase, type PostgresOptions } from './postgres.js';
import { SqliteDatabase } from './sqlite.js';

export type DatabaseTarget = { engine: 'sqlite'; path: string } | ({ engine: 'postgres' } & PostgresOptions);

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  let db: Database;
  if (target.engine === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    db = new SqliteDatabase(target.path);
  } else {
    const pgDb = new PostgresDatabase(target);
    await pgDb.connect();
    db = pgDb;
  }
  try {
    await runMigrations(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
