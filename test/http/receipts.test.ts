import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { createRoom, enc, sendMessage, V3 } from './user-data-helpers.js';

describe('receipts', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  let first: string;
  let second: string;

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
    carol = await registerUser(hs.baseUrl, 'carol');
    roomId = await createRoom(hs.baseUrl, alice, [bob]);
    first = await sendMessage(hs.baseUrl, alice, roomId, 'one');
    second = await sendMessage(hs.baseUrl, alice, roomId, 'two');
  });
  after(() => hs.close());

  const receipts = () => hs.server.services.userData.receipts;
  const post = (user: TestUser, type: string, eventId: string, body: unknown = {}) =>
    call(hs.baseUrl, 'POST', `${V3}/rooms/${enc(roomId)}/receipt/${type}/${enc(eventId)}`, body, user.accessToken);

  test('m.read is stored, shaped as m.receipt content, and wakes a waiting sync', async () => {
    const before = await receipts().currentPosition();
    const waiting = hs.server.services.notifier.waitForChange(alice.userId, new Set([roomId]), 5000);
    const started = Date.now();
    assert.equal((await post(bob, 'm.read', first)).status, 200);
    await waiting;
    assert.ok(Date.now() - started < 4000, 'the waiter was woken by the receipt, not by its timeout');
    const since = await receipts().receiptsSince([roomId], before, alice.userId);
    const content = since.get(roomId)!;
    assert.deepEqual(Object.keys(content), [first]);
    assert.equal(typeof content[first]!['m.read']![bob.userId]!.ts, 'number');
    assert.equal(content[first]!['m.read']![bob.userId]!.thread_id, undefined);
    assert.ok((await receipts().currentPosition()) > before);
  });

  test('a receipt never moves backwards; a later one replaces it', async () => {
    assert.equal((await post(bob, 'm.read', second)).status, 200);
    assert.equal((await post(bob, 'm.read', first)).status, 200);
    const all = (await receipts().receiptsForRooms([roomId], alice.userId)).get(roomId)!;
    assert.ok(all[second]?.['m.read']?.[bob.userId]);
    assert.equal(all[first]?.['m.read']?.[bob.userId], undefined);
  });

  test('threaded receipts (thread_id "main") are kept apart from unthreaded ones', async () => {
    assert.equal((await post(alice, 'm.read', first, { thread_id: 'main' })).status, 200);
    assert.equal((await post(alice, 'm.read', second)).status, 200);
    const all = (await receipts().receiptsForRooms([roomId], bob.userId)).get(roomId)!;
    assert.deepEqual(all[first]!['m.read']![alice.userId]!.thread_id, 'main');
    assert.equal(all[second]!['m.read']![alice.userId]!.thread_id, undefined);
  });

  test('m.read.private is visible only to its sender', async () => {
    const before = await receipts().currentPosition();
    const other = await sendMessage(hs.baseUrl, alice, roomId, 'three');
    assert.equal((await post(bob, 'm.read.private', other)).status, 200);
    const forBob = (await receipts().receiptsSince([roomId], before, bob.userId)).get(roomId)!;
    assert.ok(forBob[other]!['m.read.private']![bob.userId]);
    assert.equal((await receipts().receiptsSince([roomId], before, alice.userId)).get(roomId), undefined);
    assert.equal((await receipts().receiptsForRooms([roomId], alice.userId)).get(roomId)![other], undefined);
  });

  test('m.fully_read through this endpoint sets the read marker, not a receipt', async () => {
    assert.equal((await post(bob, 'm.fully_read', second)).status, 200);
    const marker = await call(hs.baseUrl, 'GET', `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, undefined, bob.accessToken);
    assert.deepEqual(marker.body, { event_id: second });
    const all = (await receipts().receiptsForRooms([roomId], bob.userId)).get(roomId)!;
    assert.equal(all[second]?.['m.fully_read'], undefined);
  });

  test('errors: bad type, bad thread_id, unknown event, not joined', async () => {
    const badType = await post(bob, 'm.unread', first);
    assert.equal(badType.status, 400);
    assert.equal(badType.body.errcode, 'M_INVALID_PARAM');
    for (const thread_id of ['', 5]) {
      const res = await post(bob, 'm.read', first, { thread_id });
      assert.equal(res.status, 400, JSON.stringify(thread_id));
      assert.equal(res.body.errcode, 'M_INVALID_PARAM');
    }
    const threadOnMarker = await post(bob, 'm.fully_read', first, { thread_id: 'main' });
    assert.equal(threadOnMarker.status, 400);
    for (const notEventId of ['nope', '$', '$short']) {
      const res = await post(bob, 'm.read', notEventId);
      assert.deepEqual([res.status, res.body.errcode], [400, 'M_INVALID_PARAM'], notEventId);
    }
    const unknown = await post(bob, 'm.read', '$nope:localhost');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errcode, 'M_NOT_FOUND');
    const outsider = await post(carol, 'm.read', first);
    assert.equal(outsider.status, 403);
    assert.equal(outsider.body.errcode, 'M_FORBIDDEN');
    const noAuth = await call(hs.baseUrl, 'POST', `${V3}/rooms/${enc(roomId)}/receipt/m.read/${enc(first)}`, {});
    assert.equal(noAuth.status, 401);
  });
});
