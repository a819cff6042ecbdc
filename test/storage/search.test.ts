// The full-text index on both engines: FTS5 (SQLite) and tsvector + GIN
// (PostgreSQL) must find, rank, filter, paginate and forget events alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, withDatabase } from '../helpers/databases.js';
import type { Database } from '../../src/storage/database.js';
import { SearchStore, type SearchKey, type SearchQuery } from '../../src/storage/search.js';

let position = 0;

/** A minimal events row, so the index can join to it. */
async function addEvent(db: Database, store: SearchStore, roomId: string, sender: string, key: SearchKey, value: string): Promise<string> {
  position++;
  const eventId = `$e${position}`;
  const type = key === 'content.body' ? 'm.room.message' : key === 'content.name' ? 'm.room.name' : 'm.room.topic';
  await db.execute(
    `INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, origin_server_ts, json)
     VALUES (?, ?, ?, ?, NULL, ?, 1, 0, '{}')`,
    [position, eventId, roomId, type, sender],
  );
  await store.index({ eventId, key, value });
  return eventId;
}

const base: Omit<SearchQuery, 'words'> = {
  rooms: [{ roomId: '!a:x' }, { roomId: '!b:x' }],
  keys: ['content.body', 'content.name', 'content.topic'],
  notSenders: [],
  orderBy: 'rank',
  limit: 10,
  offset: 0,
};

for (const engine of ENGINES) {
  describe(`event search store (${engine})`, () => {
    test('finds by word prefix, ranks denser matches first, filters, paginates and forgets', async () => {
      await withDatabase(engine, async (db) => {
        const store = new SearchStore(db);
        const once = await addEvent(db, store, '!a:x', '@alice:x', 'content.body', 'the weather is nice, lots of other words here to dilute it');
        const twice = await addEvent(db, store, '!a:x', '@bob:x', 'content.body', 'weather weather');
        const otherRoom = await addEvent(db, store, '!c:x', '@alice:x', 'content.body', 'weather in a room we are not in');
        const topic = await addEvent(db, store, '!b:x', '@bob:x', 'content.topic', 'Weathering the storm');
        await addEvent(db, store, '!a:x', '@alice:x', 'content.body', 'nothing relevant');

        const ranked = await store.search({ ...base, words: ['weather'] });
        assert.deepEqual(ranked.map((h) => h.eventId).sort(), [once, twice, topic].sort());
        assert.equal(ranked[0]!.eventId, twice, 'two occurrences in a short text rank first');
        assert.ok(ranked[0]!.rank > ranked[ranked.length - 1]!.rank);
        assert.equal(await store.count({ ...base, words: ['weather'] }), 3);
        assert.ok(!ranked.some((h) => h.eventId === otherRoom));

        const recent = await store.search({ ...base, words: ['weather'], orderBy: 'recent' });
        assert.deepEqual(recent.map((h) => h.eventId), [topic, twice, once]);
        const olderPage = await store.search({ ...base, words: ['weather'], orderBy: 'recent', beforeStream: recent[0]!.streamOrdering, limit: 1 });
        assert.deepEqual(olderPage.map((h) => h.eventId), [twice]);
        const secondRanked = await store.search({ ...base, words: ['weather'], limit: 2, offset: 2 });
        assert.equal(secondRanked.length, 1);

        assert.deepEqual((await store.search({ ...base, words: ['weather'], keys: ['content.topic'] })).map((h) => h.eventId), [topic]);
        assert.deepEqual((await store.search({ ...base, words: ['weather'], senders: ['@alice:x'] })).map((h) => h.eventId), [once]);
        assert.equal((await store.search({ ...base, words: ['weather'], notSenders: ['@bob:x'] })).length, 1);
        assert.deepEqual((await store.search({ ...base, words: ['weather', 'nice'] })).map((h) => h.eventId), [once], 'all words must match');
        assert.deepEqual(await store.search({ ...base, words: ['xyzzy'] }), []);

        assert.equal(await store.remove(twice), true);
        assert.equal(await store.remove(twice), false);
        assert.deepEqual((await store.search({ ...base, words: ['weather'] })).map((h) => h.eventId).sort(), [once, topic].sort());
      });
    });

    test('a room searched up to a stream position yields nothing after it, in results and count', async () => {
      await withDatabase(engine, async (db) => {
        const store = new SearchStore(db);
        const whole = await addEvent(db, store, '!whole:x', '@alice:x', 'content.body', 'kumquat in a room still joined');
        const early = await addEvent(db, store, '!left:x', '@alice:x', 'content.body', 'kumquat before leaving');
        const cutoff = position;
        await addEvent(db, store, '!left:x', '@alice:x', 'content.body', 'kumquat after leaving');
        const later = await addEvent(db, store, '!whole:x', '@alice:x', 'content.body', 'kumquat later on');
        const query: SearchQuery = { ...base, words: ['kumquat'], rooms: [{ roomId: '!whole:x' }, { roomId: '!left:x', upTo: cutoff }] };

        for (const orderBy of ['rank', 'recent'] as const) {
          const found = await store.search({ ...query, orderBy });
          assert.deepEqual(found.map((h) => h.eventId).sort(), [whole, early, later].sort(), orderBy);
        }
        assert.equal(await store.count(query), 3);
        const onlyLeft = await store.search({ ...query, rooms: [{ roomId: '!left:x', upTo: cutoff }] });
        assert.deepEqual(onlyLeft.map((h) => h.eventId), [early]);
        assert.deepEqual(await store.search({ ...query, rooms: [{ roomId: '!left:x', upTo: cutoff - 1 }] }), []);
      });
    });
  });
}
