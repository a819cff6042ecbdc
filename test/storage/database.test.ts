import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isUniqueViolation } from '../../src/storage/database.js';
import { numberPlaceholders } from '../../src/storage/postgres.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { createTestDatabaseTarget, ENGINES, withDatabase } from '../helpers/databases.js';
import { openDatabase } from '../../src/storage/open.js';

describe('placeholder numbering for PostgreSQL', () => {
  test('numbers ? outside quotes only', () => {
    assert.equal(numberPlaceholders("SELECT ? , '?' , \"a?\" , ?"), "SELECT $1 , '?' , \"a?\" , $2");
  });
});

describe('SQLite durability', () => {
  test('the WAL is copied into the database file in the background', async () => {
    const testDb = await createTestDatabaseTarget('sqlite');
    const path = (testDb.target as { path: string }).path;
    const db = await openDatabase(testDb.target);
    try {
      await db.execute('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = statSync(path).size;
      // ~2 MB: under SQLite's own automatic checkpoint (off on the writer here) of ~4 MB.
      await db.transaction(async (tx) => {
        for (let i = 0; i < 500; i++) await tx.execute('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x'.repeat(4000)]);
      });
      const deadline = Date.now() + 5000;
      while (statSync(path).size <= before + 1_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(statSync(path).size > before + 1_000_000, 'the rows reached the database file without a write asking for it');
    } finally {
      await db.close();
      await testDb.destroy();
    }
  });


  test('a write returns only after the WAL is synced, and concurrent commits share syncs', async () => {
    // Every FileHandle shares one prototype: watch its datasync.
    const probe = await open(join(tmpdir(), `axon-probe-${process.pid}`), 'w');
    const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const original = prototype.datasync;
    let syncs = 0;
    let syncing = false;
    prototype.datasync = async function (this: unknown) {
      syncs += 1;
      syncing = true;
      await new Promise((resolve) => setTimeout(resolve, 30));
      await original.call(this);
      syncing = false;
    };
    try {
      await withDatabase('sqlite', async (db) => {
        await db.execute('CREATE TABLE t (k INTEGER PRIMARY KEY)');
        const before = syncs;
        const started = Date.now();
        await db.execute('INSERT INTO t (k) VALUES (?)', [0]);
        assert.ok(syncs > before, 'the insert waited for a sync');
        assert.ok(Date.now() - started >= 25, 'and for that sync to finish');
        assert.equal(syncing, false);

        const beforeBatch = syncs;
        await Promise.all(Array.from({ length: 20 }, (_, i) => db.transaction(async (tx) => {
          await tx.execute('INSERT INTO t (k) VALUES (?)', [i + 1]);
        })));
        assert.ok(syncs - beforeBatch < 20, `20 commits took ${syncs - beforeBatch} syncs`);
        assert.equal((await db.query('SELECT k FROM t')).length, 21);
      });
    } finally {
      prototype.datasync = original;
    }
  });
});

for (const engine of ENGINES) {
  describe(`database engine: ${engine}`, () => {
    test('migrations are recorded and not run twice', async () => {
      await withDatabase(engine, async (db) => {
        const rows = await db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
        assert.deepEqual(rows.map((r) => r.id), MIGRATIONS.map((m) => m.id));
      });
    });

    test('transactions commit on success and roll back on error', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)');
        await db.transaction(async (tx) => {
          await tx.execute('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]);
        });
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.execute('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 2]);
            throw new Error('boom');
          }),
          /boom/,
        );
        const rows = await db.query<{ k: string; v: number }>('SELECT k, v FROM t ORDER BY k');
        assert.deepEqual(rows, [{ k: 'a', v: 1 }]);
      });
    });

    test('calls on the database inside a transaction join it', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY)');
        await assert.rejects(
          db.transaction(async () => {
            await db.execute('INSERT INTO t (k) VALUES (?)', ['x']);
            assert.equal((await db.query('SELECT k FROM t')).length, 1);
            throw new Error('undo');
          }),
        );
        assert.equal((await db.query('SELECT k FROM t')).length, 0);
      });
    });

    test('work a transaction starts in the background leaves it when the transaction ends', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY)');
        let background: Promise<unknown> = Promise.resolve();
        await db.transaction(async (tx) => {
          await tx.execute('INSERT INTO t (k) VALUES (?)', ['inside']);
          background = new Promise((resolve) => setTimeout(resolve, 20)).then(() => db.execute('INSERT INTO t (k) VALUES (?)', ['after']));
        });
        // A later transaction that rolls back must not take the late insert
        // with it, as it would if that insert still ran on the first one's connection.
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.execute('INSERT INTO t (k) VALUES (?)', ['doomed']);
            await new Promise((resolve) => setTimeout(resolve, 60));
            throw new Error('roll back');
          }),
        );
        await background;
        const rows = await db.query<{ k: string }>('SELECT k FROM t ORDER BY k');
        assert.deepEqual(rows.map((r) => r.k), ['after', 'inside']);
      });
    });

    test('afterCommit tasks run once the data is committed, and never after a rollback', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY)');
        const seen: Array<Promise<string[]>> = [];
        // A task reads on the ordinary path (another connection on PostgreSQL,
        // the read connection on SQLite): it sees the row only if the commit came first.
        const readBack = () => seen.push(db.query<{ k: string }>('SELECT k FROM t').then((rows) => rows.map((r) => r.k)));
        await db.transaction(async () => {
          await db.execute('INSERT INTO t (k) VALUES (?)', ['kept']);
          db.afterCommit(readBack);
          assert.equal(seen.length, 0, 'nothing runs before the commit');
        });
        assert.equal(seen.length, 1);
        assert.deepEqual(await seen[0], ['kept']);

        await assert.rejects(
          db.transaction(async () => {
            await db.execute('INSERT INTO t (k) VALUES (?)', ['undone']);
            db.afterCommit(readBack);
            throw new Error('undo');
          }),
        );
        assert.equal(seen.length, 1, 'a rolled-back transaction drops its tasks');

        db.afterCommit(readBack);
        assert.equal(seen.length, 2, 'outside a transaction a task runs at once');
        await seen[1];
      });
    });

    test('unique violations are recognised and big integers read back as numbers', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT)');
        await db.execute('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 2 ** 53 - 1]);
        const err = await db.execute('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]).catch((e: unknown) => e);
        assert.ok(isUniqueViolation(err));
        assert.equal((await db.queryOne<{ v: number }>('SELECT v FROM t'))?.v, 2 ** 53 - 1);
      });
    });

    test('concurrent transactions are serialised without losing writes', async () => {
      await withDatabase(engine, async (db) => {
        await db.execute('CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)');
        await db.execute('INSERT INTO counter (id, n) VALUES (1, 0)');
        await Promise.all(
          Array.from({ length: 20 }, () =>
            db.transaction(async (tx) => {
              await tx.execute('UPDATE counter SET n = n + 1 WHERE id = 1');
            }),
          ),
        );
        assert.equal((await db.queryOne<{ n: number }>('SELECT n FROM counter'))?.n, 20);
      });
    });

    test('poolStats counts the connections in use and the callers waiting for one', async () => {
      await withDatabase(engine, async (db) => {
        const quiet = db.poolStats();
        assert.deepEqual([quiet.idle, quiet.waiting], [quiet.total, 0]);
        // SQLite has one writer; the test PostgreSQL pool has poolMax 5.
        const capacity = engine === 'sqlite' ? 1 : 5;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let holding = 0;
        const transactions = Array.from({ length: capacity + 2 }, () =>
          db.transaction(async () => {
            holding++;
            await gate;
          }),
        );
        while (holding < capacity) await new Promise((resolve) => setTimeout(resolve, 5));
        const busy = db.poolStats();
        assert.deepEqual([busy.total - busy.idle, busy.waiting], [capacity, 2]);
        release();
        await Promise.all(transactions);
        assert.equal(db.poolStats().waiting, 0);
      });
    });
  });
}
