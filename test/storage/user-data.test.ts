import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { createUserDataStores, type UserDataStores } from '../../src/storage/user-data/index.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

const receipt = (over: Partial<Parameters<UserDataStores['receipts']['upsert']>[0]> = {}) => ({
  roomId: '!r:x',
  receiptType: 'm.read',
  userId: '@a:x',
  threadId: undefined,
  eventId: '$e1',
  eventStreamOrdering: 10,
  ts: 1000,
  ...over,
});

for (const engine of ENGINES) {
  describe(`user-data stores (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let stores: UserDataStores;

    before(async () => {
      db = database.db;
      stores = createUserDataStores(db);
    });

    test('filters: numeric IDs, readable only by their owner', async () => {
      const a = await stores.filters.add('@a:x', { room: { timeline: { limit: 5 } } });
      const b = await stores.filters.add('@b:x', {});
      assert.ok(Number.isSafeInteger(a) && b > a);
      assert.deepEqual(await stores.filters.get('@a:x', a), { room: { timeline: { limit: 5 } } });
      assert.equal(await stores.filters.get('@b:x', a), undefined);
      assert.equal(await stores.filters.get('@a:x', 987654), undefined);
    });

    test('receipts: one per (room, type, user, thread), moving only forward, each write a new stream position', async () => {
      const p1 = await stores.receipts.upsert(receipt());
      assert.equal(p1, 1);
      assert.equal(await stores.receipts.upsert(receipt({ eventId: '$e0', eventStreamOrdering: 5 })), undefined, 'older event ignored');
      assert.equal(await stores.receipts.upsert(receipt()), undefined, 'same event ignored');
      const p2 = await stores.receipts.upsert(receipt({ eventId: '$e2', eventStreamOrdering: 11, ts: 2000 }));
      assert.equal(p2, 2);
      const p3 = await stores.receipts.upsert(receipt({ threadId: 'main', eventId: '$e1' }));
      assert.equal(p3, 3);
      assert.equal(await stores.receipts.currentStreamId(), 3);
      assert.equal((await stores.receipts.get('!r:x', 'm.read', '@a:x'))?.eventId, '$e2');
      assert.equal((await stores.receipts.get('!r:x', 'm.read', '@a:x', 'main'))?.eventId, '$e1');
      const all = await stores.receipts.inRooms(['!r:x'], { forUser: '@z:x', privateTypes: [] });
      assert.deepEqual(all.map((r) => [r.eventId, r.threadId, r.streamId]), [['$e2', undefined, 2], ['$e1', 'main', 3]]);
      assert.deepEqual((await stores.receipts.inRooms(['!r:x'], { forUser: '@z:x', privateTypes: [] }, 2)).map((r) => r.streamId), [3]);
      assert.deepEqual(await stores.receipts.inRooms(['!other:x'], { forUser: '@z:x', privateTypes: [] }), []);
      assert.deepEqual(await stores.receipts.inRooms([], { forUser: '@z:x', privateTypes: [] }), []);
    });

    test('receipts: private types are returned only to their owner', async () => {
      await stores.receipts.upsert(receipt({ roomId: '!p:x', receiptType: 'm.read.private', userId: '@a:x' }));
      await stores.receipts.upsert(receipt({ roomId: '!p:x', receiptType: 'm.read', userId: '@b:x' }));
      const visibility = (forUser: string) => ({ forUser, privateTypes: ['m.read.private'] });
      assert.deepEqual((await stores.receipts.inRooms(['!p:x'], visibility('@a:x'))).map((r) => r.receiptType).sort(), ['m.read', 'm.read.private']);
      assert.deepEqual((await stores.receipts.inRooms(['!p:x'], visibility('@b:x'))).map((r) => r.receiptType), ['m.read']);
    });

    test('presence: streamed writes take positions, unstreamed ones keep theirs', async () => {
      assert.equal(await stores.presence.get('@a:x'), undefined);
      const p1 = await stores.presence.set('@a:x', { state: 'online', statusMsg: 'hi', lastActiveTs: 100 }, true);
      assert.equal(p1, 1);
      assert.equal(await stores.presence.set('@a:x', { state: 'online', statusMsg: 'hi', lastActiveTs: 200 }, false), undefined);
      assert.deepEqual(await stores.presence.get('@a:x'), { userId: '@a:x', state: 'online', statusMsg: 'hi', lastActiveTs: 200, streamId: 1 });
      const p2 = await stores.presence.set('@b:x', { state: 'unavailable', statusMsg: null, lastActiveTs: 50 }, true);
      assert.equal(p2, 2);
      assert.equal(await stores.presence.currentStreamId(), 2);
      assert.deepEqual((await stores.presence.forUsers(['@a:x', '@b:x'])).map((r) => r.userId), ['@a:x', '@b:x']);
      assert.deepEqual((await stores.presence.forUsers(['@a:x', '@b:x'], 1)).map((r) => r.userId), ['@b:x']);
      assert.deepEqual(await stores.presence.forUsers(['@c:x']), []);
    });
  });
}
