import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { createRoom, enc, sendMessage, V3 } from './user-data-helpers.js';

describe('read markers', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let first: string;
  let second: string;

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
    roomId = await createRoom(hs.baseUrl, alice);
    first = await sendMessage(hs.baseUrl, alice, roomId, 'one');
    second = await sendMessage(hs.baseUrl, alice, roomId, 'two');
  });
  after(() => hs.close());

  const markers = (user: TestUser, body: unknown) => call(hs.baseUrl, 'POST', `${V3}/rooms/${enc(roomId)}/read_markers`, body, user.accessToken);
  const fullyRead = async () =>
    (await call(hs.baseUrl, 'GET', `${V3}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, undefined, alice.accessToken)).body;

  test('one call sets m.fully_read, m.read and m.read.private', async () => {
    const res = await markers(alice, { 'm.fully_read': second, 'm.read': first, 'm.read.private': second });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await fullyRead(), { event_id: second });
    const own = (await hs.server.services.userData.receipts.receiptsForRooms([roomId], alice.userId)).get(roomId)!;
    assert.ok(own[first]!['m.read']![alice.userId]);
    assert.ok(own[second]!['m.read.private']![alice.userId]);
  });

  test('the fully read marker does not move backwards', async () => {
    assert.equal((await markers(alice, { 'm.fully_read': first })).status, 200);
    assert.deepEqual(await fullyRead(), { event_id: second });
  });

  test('errors: unknown event 404, not joined 403, wrong type 400; nothing is set on error', async () => {
    const third = await sendMessage(hs.baseUrl, alice, roomId, 'three');
    const unknown = await markers(alice, { 'm.fully_read': third, 'm.read': '$missing:localhost' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await fullyRead(), { event_id: second });
    const outsider = await markers(bob, { 'm.fully_read': first });
    assert.equal(outsider.status, 403);
    const badType = await markers(alice, { 'm.fully_read': 7 });
    assert.equal(badType.status, 400);
    assert.equal(badType.body.errcode, 'M_BAD_JSON');
  });
});
