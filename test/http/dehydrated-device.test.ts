// MSC3814 dehydrated devices over real HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { TestDevice, type Json } from './keys-helpers.js';

const PATH = '/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device';

describe('dehydrated devices (MSC3814)', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  const raw = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, path, body, user?.accessToken);

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
  });
  after(async () => hs.close());

  const upload = (deviceId: string) => {
    const device = new TestDevice(alice.userId, deviceId);
    return raw('PUT', PATH, {
      device_id: deviceId,
      device_data: { algorithm: 'org.matrix.msc3814.v1.olm', device_pickle: 'opaque' },
      initial_device_display_name: 'Dehydrated',
      device_keys: device.deviceKeys({ dehydrated: true }),
      one_time_keys: device.oneTimeKeys(2),
      fallback_keys: device.fallbackKey(),
    }, alice);
  };

  test('upload, receive to-device messages, page through them, replace, delete', async () => {
    assert.equal((await raw('GET', PATH, undefined, alice)).body.errcode, 'M_NOT_FOUND');
    const put = await upload('DEHYDRATED1');
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { device_id: 'DEHYDRATED1' });
    assert.deepEqual((await raw('GET', PATH, undefined, alice)).body, { device_id: 'DEHYDRATED1', device_data: { algorithm: 'org.matrix.msc3814.v1.olm', device_pickle: 'opaque' } });

    const query = await raw('POST', '/_matrix/client/v3/keys/query', { device_keys: { [alice.userId]: [] } }, bob);
    const keys = (query.body.device_keys as Record<string, Record<string, Json>>)[alice.userId]!.DEHYDRATED1!;
    assert.equal(keys.dehydrated, true);
    const claim = await raw('POST', '/_matrix/client/v3/keys/claim', { one_time_keys: { [alice.userId]: { DEHYDRATED1: 'signed_curve25519' } } }, bob);
    assert.ok((claim.body.one_time_keys as Record<string, Json>)[alice.userId]!.DEHYDRATED1);

    for (let i = 0; i < 2; i++) {
      await raw('PUT', `/_matrix/client/v3/sendToDevice/m.room.encrypted/d${i}`, { messages: { [alice.userId]: { DEHYDRATED1: { i } } } }, bob);
    }
    const events = `${PATH}/DEHYDRATED1/events`;
    const page = await raw('POST', events, {}, alice);
    assert.equal(page.status, 200);
    assert.deepEqual((page.body.events as Json[]).map((e) => (e.content as Json).i), [0, 1]);
    const next = await raw('POST', events, { next_batch: page.body.next_batch }, alice);
    assert.deepEqual(next.body.events, []);
    const again = await raw('POST', events, {}, alice);
    assert.deepEqual(again.body.events, [], 'passing next_batch confirmed and deleted the first page');
    assert.equal((await raw('POST', `${PATH}/${alice.deviceId}/events`, {}, alice)).status, 403);

    assert.equal((await upload('DEHYDRATED2')).status, 200);
    const devices = (await raw('GET', '/_matrix/client/v3/devices', undefined, alice)).body.devices as Json[];
    assert.deepEqual(devices.map((d) => d.device_id).sort(), [alice.deviceId, 'DEHYDRATED2'].sort(), 'the old dehydrated device is gone');
    const after = await raw('POST', '/_matrix/client/v3/keys/query', { device_keys: { [alice.userId]: ['DEHYDRATED1'] } }, bob);
    assert.deepEqual((after.body.device_keys as Json)[alice.userId], {});

    assert.deepEqual((await raw('DELETE', PATH, undefined, alice)).body, { device_id: 'DEHYDRATED2' });
    assert.equal((await raw('GET', PATH, undefined, alice)).body.errcode, 'M_NOT_FOUND');
  });

  test('a device ID already used by a real device, or keys for another device, are refused', async () => {
    assert.equal((await upload(alice.deviceId)).body.errcode, 'M_INVALID_PARAM');
    const device = new TestDevice(alice.userId, 'OTHER');
    const mismatched = await raw('PUT', PATH, { device_id: 'DEHYDRATED3', device_data: {}, device_keys: device.deviceKeys() }, alice);
    assert.equal(mismatched.body.errcode, 'M_INVALID_PARAM');
    const devices = (await raw('GET', '/_matrix/client/v3/devices', undefined, alice)).body.devices as Json[];
    assert.ok(!devices.some((d) => d.device_id === 'DEHYDRATED3'));
  });
});
