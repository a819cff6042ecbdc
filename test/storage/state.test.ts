import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { MAX_DIFF_LAYERS, RoomStore, UnknownSnapshotError } from '../../src/storage/rooms/index.js';
import { stateKeyString, type StateMap } from '../../src/core/types.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

const key = stateKeyString;

function baseState(prefix: string): StateMap {
  return new Map([
    [key('m.room.create', ''), `$${prefix}-create`],
    [key('m.room.power_levels', ''), `$${prefix}-pl`],
    [key('m.room.join_rules', ''), `$${prefix}-jr`],
    [key('m.room.member', '@creator:test'), `$${prefix}-creator`],
  ]);
}

for (const engine of ENGINES) {
  describe(`state snapshots (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let store: RoomStore;

    before(async () => {
      db = database.db;
      store = new RoomStore(db);
    });

    async function countRows(): Promise<{ snapshots: number; entries: number }> {
      const count = async (table: string) => Number((await db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n);
      return { snapshots: await count('state_snapshots'), entries: await count('state_snapshot_entries') };
    }

    test('equal states are stored once, whatever the parent hint or insertion order', async () => {
      const state = baseState('dedup');
      const id = await store.snapshots.saveStateSnapshot(state);
      const rows = await countRows();
      const reordered = new Map([...state].reverse());
      assert.equal(await store.snapshots.saveStateSnapshot(reordered), id);
      const other = await store.snapshots.saveStateSnapshot(new Map([...state, [key('m.room.name', ''), '$dedup-name']]), id);
      assert.equal(await store.snapshots.saveStateSnapshot(state, other), id);
      assert.deepEqual(await countRows(), { snapshots: rows.snapshots + 1, entries: rows.entries + 1 });
    });

    test('concurrent saves of one state agree on one snapshot', async () => {
      const state = baseState('race');
      const ids = await Promise.all(Array.from({ length: 6 }, () => store.snapshots.saveStateSnapshot(state)));
      assert.equal(new Set(ids).size, 1);
    });

    test('snapshots round-trip exactly through diff layers, including removals and replacements', async () => {
      const base = baseState('rt');
      const baseId = await store.snapshots.saveStateSnapshot(base);
      const s1 = new Map(base).set(key('m.room.name', ''), '$rt-name');
      const s2 = new Map(s1).set(key('m.room.power_levels', ''), '$rt-pl2');
      const s3 = new Map(s2);
      s3.delete(key('m.room.name', ''));
      const ids = [baseId];
      for (const s of [s1, s2, s3]) ids.push(await store.snapshots.saveStateSnapshot(s, ids.at(-1)));
      for (const [i, s] of [base, s1, s2, s3].entries()) assert.deepEqual(await store.snapshots.loadStateSnapshot(ids[i]!), s);

      const info = await store.snapshots.snapshotInfo(ids[1]!);
      assert.deepEqual(info, { id: ids[1], parentId: baseId, layer: 1, stateSize: 5 });
      assert.deepEqual(await store.snapshots.loadStateSnapshot(await store.snapshots.saveStateSnapshot(new Map())), new Map());
    });

    test('a large change is written as a new base rather than a diff', async () => {
      const small = baseState('big');
      const smallId = await store.snapshots.saveStateSnapshot(small);
      const big = new Map(small);
      for (let i = 0; i < 20; i++) big.set(key('m.room.member', `@u${i}:test`), `$big-m${i}`);
      const bigId = await store.snapshots.saveStateSnapshot(big, smallId);
      assert.equal((await store.snapshots.snapshotInfo(bigId))?.layer, 0);
      assert.deepEqual(await store.snapshots.loadStateSnapshot(bigId), big);
    });

    test('diff layers never stack deeper than the bound', async () => {
      let state = baseState('deep');
      for (let i = 0; i < 60; i++) state.set(key('m.room.member', `@d${i}:test`), `$deep-m${i}`);
      let id = await store.snapshots.saveStateSnapshot(state);
      for (let i = 0; i < 12; i++) {
        state = new Map(state).set(key('m.room.member', `@d${i}:test`), `$deep-m${i}-v2`);
        id = await store.snapshots.saveStateSnapshot(state, id);
        const info = (await store.snapshots.snapshotInfo(id))!;
        assert.ok(info.layer <= MAX_DIFF_LAYERS, `layer ${info.layer}`);
        assert.deepEqual(await store.snapshots.loadStateSnapshot(id), state);
      }
    });

    test('lookupKeys reads a few keys of many snapshots through their diff layers, removals included', async () => {
      const base = baseState('look');
      const s1 = new Map(base).set(key('m.room.history_visibility', ''), '$look-hv1');
      const s2 = new Map(s1).set(key('m.room.member', '@bob:test'), '$look-bob-join');
      const s3 = new Map(s2).set(key('m.room.history_visibility', ''), '$look-hv2');
      s3.delete(key('m.room.member', '@bob:test'));
      const ids = [await store.snapshots.saveStateSnapshot(base)];
      for (const s of [s1, s2, s3]) ids.push(await store.snapshots.saveStateSnapshot(s, ids.at(-1)));
      assert.ok((await store.snapshots.snapshotInfo(ids[3]!))!.layer > 0, 'the last snapshot is a diff');
      const keys = [key('m.room.history_visibility', ''), key('m.room.member', '@bob:test'), key('m.room.name', '')];
      const found = await store.snapshots.lookupKeys(ids, keys);
      for (const [i, s] of [base, s1, s2, s3].entries()) {
        const expected = new Map(keys.filter((k) => s.has(k)).map((k) => [k, s.get(k)!]));
        assert.deepEqual(found.get(ids[i]!), expected, `snapshot ${i}`);
      }
      assert.deepEqual(await store.snapshots.lookupKeys([], keys), new Map());
    });

    test('stateDelta reports changed and removed keys', async () => {
      const a = baseState('delta');
      const b = new Map(a).set(key('m.room.topic', ''), '$delta-topic').set(key('m.room.create', ''), '$delta-create2');
      b.delete(key('m.room.join_rules', ''));
      const aId = await store.snapshots.saveStateSnapshot(a);
      const bId = await store.snapshots.saveStateSnapshot(b, aId);
      const delta = await store.snapshots.stateDelta(aId, bId);
      assert.deepEqual(
        delta.changed,
        new Map([
          [key('m.room.create', ''), '$delta-create2'],
          [key('m.room.topic', ''), '$delta-topic'],
        ]),
      );
      assert.deepEqual(delta.removed, [key('m.room.join_rules', '')]);
      assert.deepEqual(await store.snapshots.stateDelta(bId, bId), { changed: new Map(), removed: [] });
    });

    test('an unknown snapshot is an error naming it', async () => {
      await assert.rejects(store.snapshots.loadStateSnapshot(987654), (err: unknown) => {
        assert.ok(err instanceof UnknownSnapshotError);
        assert.match(err.message, /987654/);
        return true;
      });
    });

    test('a room growing by one member per snapshot uses roughly linear storage and loads back exactly', async () => {
      const before = await countRows();
      const states: StateMap[] = [];
      const ids: number[] = [];
      let state = baseState('grow');
      let parent: number | undefined;
      const n = 200;
      for (let i = 0; i < n; i++) {
        state = new Map(state).set(key('m.room.member', `@g${i}:test`), `$grow-m${i}`);
        parent = await store.snapshots.saveStateSnapshot(state, parent);
        states.push(state);
        ids.push(parent);
      }
      const rows = await countRows();
      const entries = rows.entries - before.entries;
      assert.equal(rows.snapshots - before.snapshots, n);
      // Full copies would take sum(5..204) ≈ 20,900 rows; diffs against a
      // bounded stack of layers stay within a small multiple of n.
      assert.ok(entries < 8 * n, `${entries} snapshot entry rows for ${n} snapshots`);
      const loaded = await Promise.all(ids.map((id) => store.snapshots.loadStateSnapshot(id)));
      for (let i = 0; i < n; i++) assert.deepEqual(loaded[i], states[i], `snapshot ${i}`);
      for (const id of ids) assert.ok((await store.snapshots.snapshotInfo(id))!.layer <= MAX_DIFF_LAYERS);
    });

    test('saving the next state of a big room reads no snapshot back from the database', async () => {
      // A room of 2,000 state entries gaining one per state event: each new
      // snapshot is planned against its parent's chain, which this store saved.
      const chainReads: string[] = [];
      const spy = new Proxy(db, {
        get(target, prop) {
          if (prop === 'query') {
            return (sql: string, params?: unknown[]) => {
              if (sql.includes('WITH RECURSIVE chain')) chainReads.push(sql);
              return target.query(sql, params as never);
            };
          }
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const snapshots = new RoomStore(spy).snapshots;
      let state = baseState('big');
      for (let i = 0; i < 2000; i++) state.set(key('org.example.big', `k${i}`), `$big-${i}`);
      let parent = await snapshots.saveStateSnapshot(state);
      for (let i = 0; i < 150; i++) {
        state = new Map(state).set(key('m.room.member', `@b${i}:test`), `$big-m${i}`);
        parent = await snapshots.saveStateSnapshot(state, parent);
      }
      assert.deepEqual(chainReads, []);
      assert.deepEqual(await store.snapshots.loadStateSnapshot(parent), state, 'another store reads it back from the database exactly');
    });
  });
}
