// The encryption sections of /sync and of sliding sync's to_device and e2ee
// extensions, over real HTTP: to-device messages delivered until the client
// advances `since`, device list changes for users sharing a room, and
// one-time / fallback key counts for the syncing device.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { TestDevice } from './keys-helpers.js';

interface SyncBody {
  next_batch: string;
  to_device?: { events: Array<{ type: string; sender: string; content: Record<string, unknown> }> };
  device_lists?: { changed?: string[]; left?: string[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
}

describe('/sync encryption sections', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  const api = <T = Record<string, unknown>>(method: string, path: string, body: unknown, user: TestUser) =>
    call<T>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);
  const sync = (user: TestUser, since?: string, timeout = 0) =>
    api<SyncBody>('GET', `/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ''}`, undefined, user);

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
  });
  after(async () => hs.close());

  test('to-device messages arrive in /sync, wake a long poll, and are gone once acknowledged', async () => {
    const first = await sync(bob);
    const poll = sync(bob, first.body.next_batch, 5000);
    await new Promise((r) => setTimeout(r, 50));
    const sent = await api('PUT', '/sendToDevice/m.room_key_request/t1', { messages: { [bob.userId]: { [bob.deviceId]: { hello: 'bob' } } } }, alice);
    assert.equal(sent.status, 200);
    const woken = await poll;
    assert.deepEqual(woken.body.to_device?.events, [{ type: 'm.room_key_request', sender: alice.userId, content: { hello: 'bob' } }]);

    // Re-syncing from the same token redelivers (not yet acknowledged)…
    const again = await sync(bob, first.body.next_batch);
    assert.equal(again.body.to_device?.events.length, 1);
    // …advancing past it acknowledges and deletes.
    const next = await sync(bob, woken.body.next_batch);
    assert.equal(next.body.to_device?.events.length ?? 0, 0);
    const replay = await sync(bob, first.body.next_batch);
    assert.equal(replay.body.to_device?.events.length ?? 0, 0);
  });

  test('one-time and fallback key counts are those of the syncing device', async () => {
    const device = new TestDevice(bob.userId, bob.deviceId);
    // Read (and cached) before the upload: uploads and claims must show at once.
    assert.equal((await sync(bob)).body.device_one_time_keys_count?.signed_curve25519 ?? 0, 0);
    const upload = await api('POST', '/keys/upload', { device_keys: device.deviceKeys(), one_time_keys: device.oneTimeKeys(3), fallback_keys: device.fallbackKey() }, bob);
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    const { body } = await sync(bob);
    assert.equal(body.device_one_time_keys_count?.signed_curve25519, 3);
    assert.deepEqual(body.device_unused_fallback_key_types, ['signed_curve25519']);
    const claim = () => api('POST', '/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } }, alice);
    for (let i = 0; i < 4; i++) assert.equal((await claim()).status, 200);
    const drained = (await sync(bob)).body;
    assert.equal(drained.device_one_time_keys_count?.signed_curve25519 ?? 0, 0);
    assert.deepEqual(drained.device_unused_fallback_key_types, [], 'the fourth claim used the fallback key');
  });

  test('device list changes reach users sharing a room', async () => {
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
    assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
    const start = await sync(alice);
    const device = new TestDevice(bob.userId, 'NEWDEVICE');
    const login = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'correct horse battery', device_id: 'NEWDEVICE' });
    const bob2: TestUser = { userId: bob.userId, deviceId: 'NEWDEVICE', accessToken: login.body.access_token as string };
    assert.equal((await api('POST', '/keys/upload', { device_keys: device.deviceKeys() }, bob2)).status, 200);
    const changes = await sync(alice, start.body.next_batch);
    assert.ok(changes.body.device_lists?.changed?.includes(bob.userId), JSON.stringify(changes.body.device_lists));
  });

  test('a sync whose only device list news is a leave carries left alone: empty lists are left out, as Synapse does', async () => {
    const dave = await registerUser(hs.baseUrl, 'dave');
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
    assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, dave)).status, 200);
    const start = await sync(alice);
    assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {}, dave)).status, 200);
    const changes = await sync(alice, start.body.next_batch);
    assert.deepEqual(changes.body.device_lists, { left: [dave.userId] });
  });

  test('inviting someone puts them in the members’ device list changes, as Synapse does', async () => {
    const carol = await registerUser(hs.baseUrl, 'carol');
    const roomId = (await api('POST', '/createRoom', { preset: 'private_chat' }, alice)).body.room_id as string;
    const start = await sync(alice);
    assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: carol.userId }, alice)).status, 200);
    const changes = await sync(alice, start.body.next_batch);
    assert.ok(changes.body.device_lists?.changed?.includes(carol.userId), JSON.stringify(changes.body.device_lists));
  });

  test('sliding sync delivers to-device messages through its extension with its own next_batch', async () => {
    const path = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';
    const ss = (since?: string) =>
      call<{ extensions: { to_device?: { next_batch: string; events: unknown[] }; e2ee?: { device_one_time_keys_count: Record<string, number> } } }>(
        hs.baseUrl, 'POST', path, { extensions: { to_device: { enabled: true, ...(since ? { since } : {}) }, e2ee: { enabled: true } } }, bob.accessToken,
      );
    await api('PUT', '/sendToDevice/m.test/ss1', { messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } } }, alice);
    const first = await ss();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.extensions.to_device?.events.length, 1);
    assert.ok(first.body.extensions.e2ee?.device_one_time_keys_count);
    const second = await ss(first.body.extensions.to_device!.next_batch);
    assert.equal(second.body.extensions.to_device?.events.length, 0);
  });
});
