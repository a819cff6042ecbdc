import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serverNameOfUserId } from '../../src/core/identifiers.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { FakeGateway } from '../helpers/push-gateway.js';

function pusherBody(url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'http',
    app_id: 'im.axon.test',
    pushkey: 'bob-phone',
    app_display_name: 'Axon Test',
    device_display_name: "Bob's phone",
    lang: 'en',
    data: { url, format: 'full', custom: 1 },
    ...overrides,
  };
}

async function sharedRoom(baseUrl: string, alice: TestUser, bob: TestUser): Promise<string> {
  const created = await call(baseUrl, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', name: 'Push room' }, alice.accessToken);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const roomId = created.body.room_id as string;
  const joined = await call(baseUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken);
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  return roomId;
}

let txn = 0;
async function sendText(baseUrl: string, user: TestUser, roomId: string, body: string): Promise<string> {
  const res = await call(baseUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body }, user.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.event_id as string;
}

describe('pushers and delivery to a push gateway', () => {
  let hs: TestHomeserver;
  let gateway: FakeGateway;
  let url: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    gateway = new FakeGateway();
    url = await gateway.start();
    hs = await startTestHomeserver({ config: { ipRangeBlacklist: ['127.0.0.0/8', '10.0.0.0/8'], ipRangeWhitelist: ['127.0.0.1/32'] } });
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
  });
  after(async () => {
    await hs.close();
    await gateway.close();
  });

  const setPusher = (body: unknown, user = bob) => call(hs.baseUrl, 'POST', '/_matrix/client/v3/pushers/set', body, user.accessToken);
  const listPushers = async (user = bob) => (await call<{ pushers: Array<Record<string, unknown>> }>(hs.baseUrl, 'GET', '/_matrix/client/v3/pushers', undefined, user.accessToken)).body.pushers;

  test('set validates its body', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...pusherBody(url), app_id: undefined }, 'M_MISSING_PARAM'],
      [{ ...pusherBody(url), lang: undefined }, 'M_MISSING_PARAM'],
      [{ ...pusherBody(url), data: undefined }, 'M_MISSING_PARAM'],
      [{ ...pusherBody(url), kind: undefined }, 'M_MISSING_PARAM'],
      [pusherBody(url, { kind: 'carrier-pigeon' }), 'M_INVALID_PARAM'],
      [pusherBody(url, { kind: 'email' }), 'M_INVALID_PARAM'],
      [pusherBody(url, { app_id: 'x'.repeat(65) }), 'M_INVALID_PARAM'],
      [pusherBody(url, { pushkey: 'k'.repeat(513) }), 'M_INVALID_PARAM'],
      [pusherBody('http://127.0.0.1:1/wrong/path'), 'M_INVALID_PARAM'],
      [pusherBody('ftp://gw.example/_matrix/push/v1/notify'), 'M_INVALID_PARAM'],
      [pusherBody(url, { data: { format: 'event_id_only' } }), 'M_INVALID_PARAM'],
    ];
    for (const [body, errcode] of cases) {
      const res = await setPusher(JSON.parse(JSON.stringify(body)));
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.errcode, errcode, JSON.stringify(body));
    }
    assert.deepEqual(await listPushers(), []);
  });

  test('set, list, replace and delete (kind null)', async () => {
    assert.equal((await setPusher(pusherBody(url, { pushkey: 'temp', profile_tag: 'tag' }))).status, 200);
    const [listed] = await listPushers();
    assert.deepEqual(listed, {
      pushkey: 'temp',
      kind: 'http',
      app_id: 'im.axon.test',
      app_display_name: 'Axon Test',
      device_display_name: "Bob's phone",
      profile_tag: 'tag',
      lang: 'en',
      data: { url, format: 'full', custom: 1 },
    });
    assert.equal((await setPusher(pusherBody(url, { pushkey: 'temp', lang: 'fr' }))).status, 200);
    assert.deepEqual((await listPushers()).map((p) => [p.pushkey, p.lang]), [['temp', 'fr']]);
    assert.equal((await setPusher({ kind: null, app_id: 'im.axon.test', pushkey: 'temp' })).status, 200);
    assert.deepEqual(await listPushers(), []);
  });

  test('a message reaches the gateway in the push gateway format; a rejected pushkey is removed', async () => {
    const roomId = await sharedRoom(hs.baseUrl, alice, bob);
    assert.equal((await setPusher(pusherBody(url))).status, 200);
    const eventId = await sendText(hs.baseUrl, alice, roomId, 'hello there');
    await gateway.waitFor(1);
    const [request] = gateway.received;
    assert.equal(request!.path, '/_matrix/push/v1/notify');
    const { notification } = request!.body;
    assert.equal(notification.event_id, eventId);
    assert.equal(notification.id, eventId, 'also as `id`, as Synapse sends it');
    assert.equal(notification.room_id, roomId);
    assert.equal(notification.type, 'm.room.message');
    assert.equal(notification.sender, alice.userId);
    assert.equal(notification.room_name, 'Push room');
    assert.deepEqual(notification.content, { msgtype: 'm.text', body: 'hello there' });
    assert.deepEqual(notification.counts, { unread: 1 });
    assert.equal(notification.prio, 'high');
    const [device] = notification.devices;
    assert.equal(device!.app_id, 'im.axon.test');
    assert.equal(device!.pushkey, 'bob-phone');
    assert.equal(typeof device!.pushkey_ts, 'number');
    assert.deepEqual(device!.data, { format: 'full', custom: 1 }, 'data without url');
    assert.deepEqual(device!.tweaks, { sound: 'default' }, 'a two-person room rings with the default sound');

    gateway.rejected = ['bob-phone'];
    await sendText(hs.baseUrl, alice, roomId, 'again');
    await gateway.waitFor(2);
    await hs.server.services.push.delivery.idle();
    assert.deepEqual(await listPushers(), [], 'the gateway rejected the pushkey');
    gateway.rejected = [];
  });

  test('a read receipt sends the gateway the new unread count, once per change', async () => {
    const carol = await registerUser(hs.baseUrl, 'carol');
    const roomId = await sharedRoom(hs.baseUrl, alice, carol);
    assert.equal((await setPusher(pusherBody(url, { pushkey: 'badge-key', data: { url } }), carol)).status, 200);
    const before = gateway.received.length;
    const eventId = await sendText(hs.baseUrl, alice, roomId, 'read me');
    await gateway.waitFor(before + 1);
    assert.deepEqual(gateway.received[before]!.body.notification.counts, { unread: 1 });

    const receipt = (id: string) => call(hs.baseUrl, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(id)}`, {}, carol.accessToken);
    assert.equal((await receipt(eventId)).status, 200);
    await gateway.waitFor(before + 2);
    const { notification } = gateway.received[before + 1]!.body;
    const pushkeyTs = notification.devices[0]!['pushkey_ts'];
    assert.deepEqual(notification, {
      id: '',
      type: null,
      sender: '',
      counts: { unread: 0 },
      devices: [{ ...notification.devices[0], app_id: 'im.axon.test', pushkey: 'badge-key', data: {} }],
    });
    assert.equal(typeof pushkeyTs, 'number');

    // The same receipt again changes nothing: the gateway hears nothing more.
    assert.equal((await receipt(eventId)).status, 200);
    await hs.server.services.push.delivery.idle();
    assert.equal(gateway.received.length, before + 2);
  });

  test('an unnamed room is named by its canonical alias in pushes', async () => {
    const dave = await registerUser(hs.baseUrl, 'dave');
    const created = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', room_alias_name: 'pushalias' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    assert.equal((await call(hs.baseUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, dave.accessToken)).status, 200);
    assert.equal((await setPusher(pusherBody(url, { pushkey: 'alias-key' }), dave)).status, 200);
    const before = gateway.received.length;
    await sendText(hs.baseUrl, alice, roomId, 'in an unnamed room');
    await gateway.waitFor(before + 1);
    const { notification } = gateway.received[before]!.body;
    const alias = `#pushalias:${serverNameOfUserId(alice.userId)}`;
    assert.equal(notification.room_name, alias);
    assert.equal(notification.room_alias, alias);
  });

  test('logging the device out removes its pushers', async () => {
    assert.equal((await setPusher(pusherBody(url, { pushkey: 'logout-key' }))).status, 200);
    const other = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'correct horse battery' });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    const bob2 = { userId: bob.userId, accessToken: other.body.access_token as string, deviceId: other.body.device_id as string };
    assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/client/v3/logout', {}, bob.accessToken)).status, 200);
    assert.deepEqual(await listPushers(bob2), []);
    bob = bob2;
  });
});

describe('push delivery honours ip_range_blacklist', () => {
  test('a gateway on a blacklisted address is never contacted', async () => {
    const gateway = new FakeGateway();
    const url = await gateway.start();
    const hs = await startTestHomeserver({ config: { ipRangeBlacklist: ['127.0.0.0/8'], ipRangeWhitelist: [] } });
    try {
      const alice = await registerUser(hs.baseUrl, 'alice');
      const bob = await registerUser(hs.baseUrl, 'bob');
      const roomId = await sharedRoom(hs.baseUrl, alice, bob);
      assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/client/v3/pushers/set', pusherBody(url), bob.accessToken)).status, 200);
      await sendText(hs.baseUrl, alice, roomId, 'should not be pushed');
      await hs.server.services.push.delivery.idle();
      assert.equal(gateway.received.length, 0);
    } finally {
      await hs.close();
      await gateway.close();
    }
  });
});
