// PUT /sendToDevice over real HTTP, read back through the API /sync will use
// (toDevice.messagesFor / acknowledge).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

describe('send-to-device over HTTP', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let bob2: TestUser;
  const api = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob', 'bobpassword')]);
    const login = await api('POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'bobpassword' });
    bob2 = { userId: bob.userId, deviceId: login.body.device_id as string, accessToken: login.body.access_token as string };
  });
  after(async () => hs.close());

  const inbox = (user: TestUser, since = 0) => hs.server.services.e2ee.toDevice.messagesFor(user.userId, user.deviceId, since, hs.server.services.e2ee.toDevice.currentPosition(), 100);

  test('a replayed txnId is delivered once; "*" reaches every device; unknown devices and remote users are dropped', async () => {
    const body = { messages: { [bob.userId]: { '*': { hello: 'all' }, NOSUCHDEVICE: { hello: 'nobody' } }, '@carol:remote.example': { X: { a: 1 } } } };
    assert.equal((await api('PUT', '/sendToDevice/m.test/txn1', body, alice)).status, 200);
    assert.equal((await api('PUT', '/sendToDevice/m.test/txn1', body, alice)).status, 200);
    for (const device of [bob, bob2]) {
      const { events } = await inbox(device);
      assert.deepEqual(events, [{ type: 'm.test', sender: alice.userId, content: { hello: 'all' } }]);
    }
    // The same txnId from another device of the sender is a different transaction.
    await api('PUT', '/sendToDevice/m.test/txn1', { messages: { [alice.userId]: { [alice.deviceId]: { self: true } } } }, bob2);
    assert.equal((await inbox(alice)).events.length, 1);
  });

  test('messagesFor pages with a limit and acknowledge deletes what was delivered', async () => {
    const carol = await registerUser(hs.baseUrl, 'carol');
    for (let i = 0; i < 3; i++) await api('PUT', `/sendToDevice/m.page/t${i}`, { messages: { [carol.userId]: { [carol.deviceId]: { i } } } }, alice);
    const service = hs.server.services.e2ee.toDevice;
    const upTo = service.currentPosition();
    const page1 = await service.messagesFor(carol.userId, carol.deviceId, 0, upTo, 2);
    assert.deepEqual(page1.events.map((e) => e.content.i), [0, 1]);
    const page2 = await service.messagesFor(carol.userId, carol.deviceId, page1.nextPosition, upTo, 2);
    assert.deepEqual(page2.events.map((e) => e.content.i), [2]);
    assert.equal(page2.nextPosition, upTo);
    await service.acknowledge(carol.userId, carol.deviceId, page1.nextPosition);
    assert.deepEqual((await service.messagesFor(carol.userId, carol.deviceId, 0, upTo, 10)).events.map((e) => e.content.i), [2]);
    await service.acknowledge(carol.userId, carol.deviceId, upTo);
    assert.deepEqual((await service.messagesFor(carol.userId, carol.deviceId, 0, upTo, 10)).events, []);
    // With nothing left to delete, acknowledging again is a no-op; a message
    // delivered later is still deleted once acknowledged.
    await service.acknowledge(carol.userId, carol.deviceId, upTo);
    await api('PUT', '/sendToDevice/m.page/t3', { messages: { [carol.userId]: { [carol.deviceId]: { i: 3 } } } }, alice);
    const later = service.currentPosition();
    assert.deepEqual((await service.messagesFor(carol.userId, carol.deviceId, upTo, later, 10)).events.map((e) => e.content.i), [3]);
    assert.deepEqual((await service.messagesFor(carol.userId, carol.deviceId, later, later, 10)).events, [], 'nothing after the head');
    await service.acknowledge(carol.userId, carol.deviceId, later);
    assert.deepEqual((await service.messagesFor(carol.userId, carol.deviceId, 0, later, 10)).events, []);
  });

  test('a sleeping /sync of the recipient is woken', async () => {
    const notifier = hs.server.services.notifier;
    const woken = notifier.waitForChange(bob.userId, new Set(), 5000);
    const before = Date.now();
    await api('PUT', '/sendToDevice/m.wake/w1', { messages: { [bob.userId]: { [bob.deviceId]: {} } } }, alice);
    await woken;
    assert.ok(Date.now() - before < 4000);
    assert.equal(notifier.position('to_device'), hs.server.services.e2ee.toDevice.currentPosition());
  });

  test('malformed messages are refused with M_BAD_JSON / M_MISSING_PARAM', async () => {
    assert.equal((await api('PUT', '/sendToDevice/m.x/bad1', { messages: { [bob.userId]: 'hi' } }, alice)).body.errcode, 'M_BAD_JSON');
    assert.equal((await api('PUT', '/sendToDevice/m.x/bad2', { messages: { [bob.userId]: { [bob.deviceId]: 5 } } }, alice)).body.errcode, 'M_BAD_JSON');
    assert.equal((await api('PUT', '/sendToDevice/m.x/bad3', {}, alice)).body.errcode, 'M_MISSING_PARAM');
  });
});
