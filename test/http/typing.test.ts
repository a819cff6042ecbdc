import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { createRoom, enc, V3 } from './user-data-helpers.js';

describe('typing', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
    roomId = await createRoom(hs.baseUrl, alice);
  });
  after(() => hs.close());

  const typing = (requester: TestUser, userId: string, body: unknown) =>
    call(hs.baseUrl, 'PUT', `${V3}/rooms/${enc(roomId)}/typing/${enc(userId)}`, body, requester.accessToken);

  test('start and stop typing; each change wakes room members and moves the stream', async () => {
    const service = hs.server.services.userData.typing;
    const before = service.currentPosition();
    const waiting = hs.server.services.notifier.waitForChange('@someone:else', new Set([roomId]), 5000);
    const started = Date.now();
    assert.equal((await typing(alice, alice.userId, { typing: true, timeout: 30000 })).status, 200);
    await waiting;
    assert.ok(Date.now() - started < 4000, 'woken by the typing change');
    assert.deepEqual(service.typingSnapshot(roomId), [alice.userId]);
    assert.deepEqual(service.changedRoomsSince(before), [roomId]);
    assert.equal((await typing(alice, alice.userId, { typing: false })).status, 200);
    assert.deepEqual(service.typingSnapshot(roomId), []);
    assert.equal(service.currentPosition(), before + 2);
  });

  test('after a stop, an initial sync tells the room’s members nobody is typing', async () => {
    assert.equal((await typing(alice, alice.userId, { typing: true, timeout: 30000 })).status, 200);
    assert.equal((await typing(alice, alice.userId, { typing: false })).status, 200);
    const sync = await call<Record<string, any>>(hs.baseUrl, 'GET', `${V3}/sync?timeout=0`, undefined, alice.accessToken); // eslint-disable-line @typescript-eslint/no-explicit-any
    const quiet = await createRoom(hs.baseUrl, alice);
    const again = await call<Record<string, any>>(hs.baseUrl, 'GET', `${V3}/sync?timeout=0`, undefined, alice.accessToken); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(sync.body.rooms.join[roomId].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [] } }]);
    assert.deepEqual(again.body.rooms.join[quiet].ephemeral.events, [], 'no typing ever: nothing to say');
  });

  test("errors: someone else's typing 403, not joined 403, missing typing 400", async () => {
    const other = await typing(alice, bob.userId, { typing: true, timeout: 1000 });
    assert.equal(other.status, 403);
    assert.equal(other.body.errcode, 'M_FORBIDDEN');
    const notJoined = await typing(bob, bob.userId, { typing: true, timeout: 1000 });
    assert.equal(notJoined.status, 403);
    const missing = await typing(alice, alice.userId, { timeout: 1000 });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errcode, 'M_MISSING_PARAM');
    const wrongType = await typing(alice, alice.userId, { typing: 'yes' });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.errcode, 'M_BAD_JSON');
  });
});
