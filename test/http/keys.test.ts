// POST /keys/upload, /keys/query, /keys/claim, GET /keys/changes, cross-signing
// uploads and signatures, over real HTTP with real ed25519 keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { formatSyncToken } from '../../src/services/sync/token.js';
import { crossSigningKey, crossSigningSet, publicKeyOf, signAs, TestDevice, type Json } from './keys-helpers.js';
import { generateSigningKey } from '../../src/core/signing.js';

const PASSWORD = 'correct horse battery';

for (const engine of ENGINES) {
  describe(`e2ee keys over HTTP (${engine})`, () => {
    let hs: TestHomeserver;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
    let n = 0;
    const newUser = async (): Promise<TestUser> => registerUser(hs.baseUrl, `user${engine}${n++}`, PASSWORD);

    before(async () => {
      hs = await startTestHomeserver({ engine });
    });
    after(async () => hs.close());

    test('five concurrent claims of the last one-time key: exactly one gets it, the others the fallback key', async () => {
      const alice = await newUser();
      const device = new TestDevice(alice.userId, alice.deviceId);
      const otk = device.oneTimeKeys(1);
      const up = await api('POST', '/keys/upload', { device_keys: device.deviceKeys(), one_time_keys: otk, fallback_keys: device.fallbackKey() }, alice);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.deepEqual(up.body.one_time_key_counts, { signed_curve25519: 1 });
      const claimers = await Promise.all(Array.from({ length: 5 }, () => newUser()));
      const replies = await Promise.all(
        claimers.map((c) => api('POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } }, timeout: 10000 }, c)),
      );
      const ids = replies.map((r) => {
        assert.equal(r.status, 200);
        const keys = (r.body.one_time_keys as Json)[alice.userId] as Record<string, Json>;
        return Object.keys(keys[alice.deviceId]!)[0];
      });
      const otkId = Object.keys(otk)[0];
      assert.equal(ids.filter((id) => id === otkId).length, 1, `claims got ${ids.join(', ')}`);
      assert.equal(ids.filter((id) => id === 'signed_curve25519:FALLBACK1').length, 4);
      const counts = await hs.server.services.e2ee.keys.oneTimeKeyCounts(alice.userId, alice.deviceId);
      assert.equal(counts.signed_curve25519, 0);
      assert.deepEqual(await hs.server.services.e2ee.keys.unusedFallbackKeyTypes(alice.userId, alice.deviceId), []);
    });

    test('device keys must be the requester\u2019s own device, well-formed and self-signed', async () => {
      const alice = await newUser();
      const device = new TestDevice(alice.userId, alice.deviceId);
      const otherDevice = new TestDevice(alice.userId, 'SOMEOTHERDEVICE');
      const wrongDevice = await api('POST', '/keys/upload', { device_keys: otherDevice.deviceKeys() }, alice);
      assert.equal(wrongDevice.status, 400);
      assert.equal(wrongDevice.body.errcode, 'M_INVALID_PARAM');
      const otherUser = new TestDevice('@mallory:elsewhere', alice.deviceId);
      assert.equal((await api('POST', '/keys/upload', { device_keys: otherUser.deviceKeys() }, alice)).body.errcode, 'M_INVALID_PARAM');
      const malformed = await api('POST', '/keys/upload', { device_keys: { ...device.deviceKeys(), keys: 'nope' } }, alice);
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.errcode, 'M_BAD_JSON');
      // As Synapse, the self-signature is the clients' to check: a placeholder key is stored as given.
      const placeholder = await api('POST', '/keys/upload', { device_keys: { ...device.deviceKeys(), keys: { [`ed25519:${alice.deviceId}`]: 'not-a-key' } } }, alice);
      assert.equal(placeholder.status, 200, JSON.stringify(placeholder.body));

      const keys = device.deviceKeys();
      assert.equal((await api('POST', '/keys/upload', { device_keys: keys }, alice)).status, 200);
      assert.equal((await api('POST', '/keys/upload', { device_keys: keys }, alice)).status, 200, 'identical re-upload is fine');
    });

    /** Alice with uploaded device keys and cross-signing keys, and Bob sharing a room with her (so he follows her device list). */
    const aliceWithWatcher = async () => {
      const alice = await newUser();
      const bob = await newUser();
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const device = new TestDevice(alice.userId, alice.deviceId);
      const keys = device.deviceKeys();
      assert.equal((await api('POST', '/keys/upload', { device_keys: keys }, alice)).status, 200);
      const set = crossSigningSet(alice.userId);
      assert.equal((await api('POST', '/keys/device_signing/upload', set.body, alice)).status, 200);
      const sskId = `ed25519:${publicKeyOf(set.selfSigning)}`;
      const deviceSignatures = async () => {
        const res = await api('POST', '/keys/query', { device_keys: { [alice.userId]: [] } }, bob);
        const ofDevice = ((res.body.device_keys as Json)[alice.userId] as Record<string, Json>)[alice.deviceId]!;
        return { keys: ofDevice.keys as Json, signatures: (ofDevice.signatures as Record<string, Json>)[alice.userId]! };
      };
      const lists = hs.server.services.e2ee.deviceLists;
      const changedForBob = async (since: number) => (await lists.changesSince(bob.userId, since, lists.currentPosition())).changed;
      return { alice, device, keys, set, sskId, deviceSignatures, lists, changedForBob };
    };

    test('device keys re-uploaded with another signature keep every signature and announce the change', async () => {
      const { alice, device, keys, set, sskId, deviceSignatures, lists, changedForBob } = await aliceWithWatcher();
      const before = lists.currentPosition();
      // What matrix-js-sdk does during bootstrapCrossSigning: the same keys, now also signed by the self-signing key.
      const resigned = signAs(keys, alice.userId, set.selfSigning, sskId);
      const up = await api('POST', '/keys/upload', { device_keys: resigned }, alice);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.deepEqual(Object.keys((await deviceSignatures()).signatures).sort(), [device.signingKeyId, sskId].sort());
      assert.deepEqual(await changedForBob(before), [alice.userId], 'watchers re-fetch the newly signed keys');

      const afterSigning = lists.currentPosition();
      assert.equal((await api('POST', '/keys/upload', { device_keys: keys }, alice)).status, 200, 'the first upload again');
      assert.deepEqual(Object.keys((await deviceSignatures()).signatures).sort(), [device.signingKeyId, sskId].sort(), 'an earlier signature is not dropped');
      assert.equal(lists.currentPosition(), afterSigning, 'nothing changed, nothing announced');
    });

    test('new identity keys for a device replace the old ones, drop signatures on them, and announce the change', async () => {
      const { alice, device, keys, set, sskId, deviceSignatures, lists, changedForBob } = await aliceWithWatcher();
      const signed = await api('POST', '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: signAs(keys, alice.userId, set.selfSigning, sskId) } }, alice);
      assert.deepEqual(signed.body.failures, {});
      assert.ok((await deviceSignatures()).signatures[sskId]);
      const before = lists.currentPosition();
      const replacement = new TestDevice(alice.userId, alice.deviceId);
      const up = await api('POST', '/keys/upload', { device_keys: replacement.deviceKeys() }, alice);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      const now = await deviceSignatures();
      assert.equal(now.keys[replacement.signingKeyId], publicKeyOf(replacement.key));
      assert.notEqual(now.keys[device.signingKeyId], publicKeyOf(device.key));
      assert.deepEqual(Object.keys(now.signatures), [replacement.signingKeyId], 'the self-signing signature was over the old keys');
      assert.deepEqual(await changedForBob(before), [alice.userId]);
    });

    test('one-time keys: reusing an ID with other content is refused, signatures are checked', async () => {
      const alice = await newUser();
      const device = new TestDevice(alice.userId, alice.deviceId);
      const otks = device.oneTimeKeys(3);
      const first = await api('POST', '/keys/upload', { device_keys: device.deviceKeys(), one_time_keys: otks }, alice);
      assert.deepEqual(first.body.one_time_key_counts, { signed_curve25519: 3 });
      const again = await api('POST', '/keys/upload', { one_time_keys: otks }, alice);
      assert.deepEqual(again.body.one_time_key_counts, { signed_curve25519: 3 }, 'a retried upload adds nothing');
      const [id] = Object.keys(otks);
      const clash = await api('POST', '/keys/upload', { one_time_keys: { [id!]: Object.values(device.oneTimeKeys(1))[0] } }, alice);
      assert.equal(clash.status, 400);
      assert.equal(clash.body.errcode, 'M_INVALID_PARAM');
      const unsignedShape = await api('POST', '/keys/upload', { one_time_keys: { 'signed_curve25519:NOSIGS': { key: 'abc' } } }, alice);
      assert.equal(unsignedShape.body.errcode, 'M_BAD_JSON', 'a signed algorithm needs its signatures object');
      assert.equal((await api('POST', '/keys/upload', { one_time_keys: { nocolon: 'abc' } }, alice)).body.errcode, 'M_INVALID_PARAM');
      const plain = await api('POST', '/keys/upload', { one_time_keys: { 'curve25519:PLAIN': 'abc' } }, alice);
      assert.deepEqual(plain.body.one_time_key_counts, { signed_curve25519: 3, curve25519: 1 });
    });

    test('query returns device keys with display names, remote servers in failures', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const device = new TestDevice(alice.userId, alice.deviceId);
      await api('PUT', `/devices/${alice.deviceId}`, { display_name: 'Alice phone' }, alice);
      await api('POST', '/keys/upload', { device_keys: device.deviceKeys() }, alice);
      const res = await api('POST', '/keys/query', { device_keys: { [alice.userId]: [], '@someone:remote.example': [] } }, bob);
      assert.equal(res.status, 200);
      const keys = (res.body.device_keys as Record<string, Record<string, Json>>)[alice.userId]![alice.deviceId]!;
      assert.equal(keys.user_id, alice.userId);
      assert.deepEqual(keys.unsigned, { device_display_name: 'Alice phone' });
      assert.ok((res.body.failures as Json)['remote.example']);
      const some = await api('POST', '/keys/query', { device_keys: { [alice.userId]: ['NOTADEVICE'] } }, bob);
      assert.deepEqual((some.body.device_keys as Json)[alice.userId], {});
      assert.equal((await api('POST', '/keys/query', { device_keys: { [alice.userId]: 'all' } }, bob)).body.errcode, 'M_BAD_JSON');
    });

    test('query: a device without a name has an empty unsigned, not the one uploaded, as Synapse', async () => {
      const carol = await newUser();
      const device = new TestDevice(carol.userId, carol.deviceId);
      await api('POST', '/keys/upload', { device_keys: { ...device.deviceKeys(), unsigned: { device_display_name: 'made up' } } }, carol);
      const res = await api('POST', '/keys/query', { device_keys: { [carol.userId]: [] } }, carol);
      assert.deepEqual((res.body.device_keys as Record<string, Record<string, Json>>)[carol.userId]![carol.deviceId]!.unsigned, {});
    });

    test('a new device at login and a renamed device are device list changes, for the user and who shares a room', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const lists = hs.server.services.e2ee.deviceLists;
      const changed = async (viewer: TestUser, since: number) => (await lists.changesSince(viewer.userId, since, lists.currentPosition())).changed;

      const beforeLogin = lists.currentPosition();
      const login = await api('POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: bob.userId }, password: PASSWORD });
      assert.equal(login.status, 200);
      assert.deepEqual(await changed(alice, beforeLogin), [bob.userId]);
      assert.deepEqual(await changed(bob, beforeLogin), [bob.userId], 'the user follows their own devices too');

      const beforeRename = lists.currentPosition();
      assert.equal((await api('PUT', `/devices/${bob.deviceId}`, { display_name: 'wibble' }, bob)).status, 200);
      assert.deepEqual(await changed(alice, beforeRename), [bob.userId]);

      const beforeRelogin = lists.currentPosition();
      await api('POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: bob.userId }, password: PASSWORD, device_id: login.body.device_id });
      assert.equal(lists.currentPosition(), beforeRelogin, 'logging in again as an existing device adds none');
    });

    test('deleting a device removes its keys, and watchers see the change', async () => {
      const alice = await newUser();
      const login = await api('POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD });
      const second: TestUser = { userId: alice.userId, deviceId: login.body.device_id as string, accessToken: login.body.access_token as string };
      const device = new TestDevice(alice.userId, second.deviceId);
      await api('POST', '/keys/upload', { device_keys: device.deviceKeys(), one_time_keys: device.oneTimeKeys(2), fallback_keys: device.fallbackKey() }, second);
      const before = hs.server.services.e2ee.deviceLists.currentPosition();
      const first = await api('DELETE', `/devices/${second.deviceId}`, {}, alice);
      assert.equal(first.status, 401);
      const del = await api('DELETE', `/devices/${second.deviceId}`, { auth: { type: 'm.login.password', session: first.body.session, identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD } }, alice);
      assert.equal(del.status, 200);
      const q = await api('POST', '/keys/query', { device_keys: { [alice.userId]: [] } }, alice);
      assert.deepEqual((q.body.device_keys as Json)[alice.userId], {});
      const claim = await api('POST', '/keys/claim', { one_time_keys: { [alice.userId]: { [second.deviceId]: 'signed_curve25519' } } }, alice);
      assert.deepEqual(claim.body.one_time_keys, {});
      assert.ok(hs.server.services.e2ee.deviceLists.currentPosition() > before);
      const changes = await hs.server.services.e2ee.deviceLists.changesSince(alice.userId, before, hs.server.services.e2ee.deviceLists.currentPosition());
      assert.deepEqual(changes.changed, [alice.userId]);
    });

    test('cross-signing: the first upload needs no UIA, replacing keys does; signatures are checked', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const set = crossSigningSet(alice.userId);
      const badSelf = crossSigningKey(alice.userId, 'self_signing', set.selfSigning, generateSigningKey());
      const refused = await api('POST', '/keys/device_signing/upload', { master_key: set.body.master_key, self_signing_key: badSelf }, alice);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errcode, 'M_INVALID_SIGNATURE');
      const wrongUsage = await api('POST', '/keys/device_signing/upload', { master_key: { ...set.body.master_key, usage: ['self_signing'] } }, alice);
      assert.equal(wrongUsage.body.errcode, 'M_INVALID_PARAM');
      const noMaster = await api('POST', '/keys/device_signing/upload', { self_signing_key: set.body.self_signing_key }, alice);
      assert.equal(noMaster.body.errcode, 'M_MISSING_PARAM');

      const first = await api('POST', '/keys/device_signing/upload', set.body, alice);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((await api('POST', '/keys/device_signing/upload', set.body, alice)).status, 200, 'repeating the same keys needs no UIA');
      const replacement = crossSigningSet(alice.userId);
      const challenge = await api('POST', '/keys/device_signing/upload', replacement.body, alice);
      assert.equal(challenge.status, 401);
      assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.password'] }]);
      const auth = { type: 'm.login.password', session: challenge.body.session, identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD };
      assert.equal((await api('POST', '/keys/device_signing/upload', { ...replacement.body, auth }, alice)).status, 200);

      const asAlice = await api('POST', '/keys/query', { device_keys: { [alice.userId]: [] } }, alice);
      assert.deepEqual((asAlice.body.master_keys as Json)[alice.userId], replacement.body.master_key, 'an unsigned master key is served as uploaded');
      const masterId = `ed25519:${publicKeyOf(replacement.master)}`;
      assert.deepEqual(Object.keys(((asAlice.body.master_keys as Json)[alice.userId] as Json).keys as Json), [masterId]);
      assert.ok((asAlice.body.self_signing_keys as Json)[alice.userId]);
      assert.ok((asAlice.body.user_signing_keys as Json)[alice.userId]);
      const asBob = await api('POST', '/keys/query', { device_keys: { [alice.userId]: [] } }, bob);
      assert.ok((asBob.body.master_keys as Json)[alice.userId]);
      assert.equal((asBob.body.user_signing_keys as Json)[alice.userId], undefined, 'only the owner sees a user-signing key');
    });

    test('cross-signing uploads are served under /unstable too, as by Synapse', async () => {
      const alice = await newUser();
      const set = crossSigningSet(alice.userId);
      const unstable = (path: string, body: unknown) => call(hs.baseUrl, 'POST', `/_matrix/client/unstable/keys/${path}`, body, alice.accessToken);
      assert.equal((await unstable('device_signing/upload', set.body)).status, 200);
      const device = new TestDevice(alice.userId, alice.deviceId);
      const keys = device.deviceKeys();
      await api('POST', '/keys/upload', { device_keys: keys }, alice);
      const signed = signAs(keys, alice.userId, set.selfSigning, `ed25519:${publicKeyOf(set.selfSigning)}`);
      const res = await unstable('signatures/upload', { [alice.userId]: { [alice.deviceId]: signed } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.failures, {});
    });

    test('signatures/upload: self-signing a device, signing another user\u2019s master key, failures per key', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const aliceDevice = new TestDevice(alice.userId, alice.deviceId);
      const aliceKeys = aliceDevice.deviceKeys();
      await api('POST', '/keys/upload', { device_keys: aliceKeys }, alice);
      const aliceSet = crossSigningSet(alice.userId);
      const bobSet = crossSigningSet(bob.userId);
      await api('POST', '/keys/device_signing/upload', aliceSet.body, alice);
      await api('POST', '/keys/device_signing/upload', bobSet.body, bob);

      const sskId = `ed25519:${publicKeyOf(aliceSet.selfSigning)}`;
      const signedDevice = signAs(aliceKeys, alice.userId, aliceSet.selfSigning, sskId);
      const bobMasterId = publicKeyOf(bobSet.master);
      const signedBobMaster = signAs(bobSet.body.master_key, alice.userId, aliceSet.userSigning, `ed25519:${publicKeyOf(aliceSet.userSigning)}`);
      const forged = signAs(aliceKeys, alice.userId, generateSigningKey(), sskId);
      const res = await api(
        'POST',
        '/keys/signatures/upload',
        { [alice.userId]: { [alice.deviceId]: signedDevice }, [bob.userId]: { [bobMasterId]: signedBobMaster, NOSUCHKEY: signedBobMaster } },
        alice,
      );
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys((res.body.failures as Record<string, Json>)[bob.userId]!), ['NOSUCHKEY']);
      const bad = await api('POST', '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: forged } }, alice);
      assert.equal(((bad.body.failures as Record<string, Record<string, Json>>)[alice.userId]![alice.deviceId]!).errcode, 'M_INVALID_SIGNATURE');

      const query = async (who: TestUser, target: TestUser) => api('POST', '/keys/query', { device_keys: { [target.userId]: [] } }, who);
      const deviceSigs = (((await query(bob, alice)).body.device_keys as Json)[alice.userId] as Record<string, Json>)[alice.deviceId]!.signatures as Record<string, Json>;
      assert.ok(deviceSigs[alice.userId]![sskId], 'the self-signing signature is merged in');
      assert.ok(deviceSigs[alice.userId]![aliceDevice.signingKeyId], 'the device\u2019s own signature stays');
      const masterAsAlice = ((await query(alice, bob)).body.master_keys as Record<string, Json>)[bob.userId]!.signatures as Json;
      assert.ok(masterAsAlice[alice.userId], 'the signer sees their signature on bob\u2019s master key');
      const masterAsCarol = ((await query(await newUser(), bob)).body.master_keys as Record<string, Json>)[bob.userId]!;
      assert.equal(masterAsCarol.signatures, undefined, 'others do not');
    });

    test('GET /keys/changes lists users sharing a room whose keys changed, and those who left', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const lists = hs.server.services.e2ee.deviceLists;
      const token = (deviceLists: number) => formatSyncToken({ events: 0, account_data: 0, receipts: 0, typing: 0, presence: 0, to_device: 0, device_lists: deviceLists });
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      const start = lists.currentPosition();
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const bobDevice = new TestDevice(bob.userId, bob.deviceId);
      await api('POST', '/keys/upload', { device_keys: bobDevice.deviceKeys() }, bob);
      const joined = await api('GET', `/keys/changes?from=${token(start)}&to=${token(lists.currentPosition())}`, undefined, alice);
      assert.equal(joined.status, 200);
      assert.deepEqual(joined.body, { changed: [bob.userId], left: [] });
      const afterJoin = lists.currentPosition();
      await api('POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {}, bob);
      const left = await api('GET', `/keys/changes?from=${token(afterJoin)}&to=${token(lists.currentPosition())}`, undefined, alice);
      assert.deepEqual(left.body, { changed: [], left: [bob.userId] });
      const forBob = await lists.changesSince(bob.userId, afterJoin, lists.currentPosition());
      assert.deepEqual(forBob, { changed: [], left: [alice.userId] });
      assert.equal((await api('GET', '/keys/changes?from=garbage&to=s1', undefined, alice)).body.errcode, 'M_INVALID_PARAM');
      assert.equal((await api('GET', `/keys/changes?from=${token(0)}`, undefined, alice)).body.errcode, 'M_MISSING_PARAM');
    });

    test('a new user-signing key is a device list change for its owner alone; a new master key for who shares a room', async () => {
      const alice = await newUser();
      const bob = await newUser();
      const lists = hs.server.services.e2ee.deviceLists;
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const set = crossSigningSet(alice.userId);
      assert.equal((await api('POST', '/keys/device_signing/upload', { master_key: set.body.master_key, self_signing_key: set.body.self_signing_key }, alice)).status, 200);
      const start = lists.currentPosition();
      const upload = (body: Json) => api('POST', '/keys/device_signing/upload', body, alice);
      const challenge = await upload({ user_signing_key: set.body.user_signing_key });
      assert.equal(challenge.status, 401);
      const auth = { type: 'm.login.password', session: challenge.body.session, identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD };
      assert.equal((await upload({ user_signing_key: set.body.user_signing_key, auth })).status, 200);
      assert.deepEqual(await lists.changesSince(alice.userId, start, lists.currentPosition()), { changed: [alice.userId], left: [] });
      assert.deepEqual(await lists.changesSince(bob.userId, start, lists.currentPosition()), { changed: [], left: [] }, 'bob never sees the key');

      const afterUserSigning = lists.currentPosition();
      const replacement = crossSigningSet(alice.userId);
      const again = await upload(replacement.body);
      assert.equal(again.status, 401);
      assert.equal((await upload({ ...replacement.body, auth: { ...auth, session: again.body.session } })).status, 200);
      assert.deepEqual(await lists.changesSince(bob.userId, afterUserSigning, lists.currentPosition()), { changed: [alice.userId], left: [] });
    });
  });
}
