// EDUs between two real Axon servers over verified TLS (hs1 on SQLite, hs2
// on PostgreSQL, so each engine sends and receives everything): typing,
// receipts and presence seen across, to-device messages, device lists kept
// current (new, renamed and deleted devices, cross-signing keys, missed
// updates), one-time keys claimed across, the checks received room EDUs
// must pass, and keys of an unreachable server reported as failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server as TcpServer } from 'node:net';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { blackHole, startFederation, type FederatedServer, type Federation } from '../helpers/federation.js';
import { crossSigningSet, publicKeyOf, signAs, TestDevice } from '../http/keys-helpers.js';
import { ephemeral, sendEdus, sharedRoom, syncToken, syncUntil, waitFor, type Json } from './edu-helpers.js';
import type { JsonObject } from '../../src/core/types.js';

const PASSWORD = 'correct horse battery';

describe('EDUs across two servers', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let down: { server: TcpServer; port: number };
  /** A room alice (hs1) and bob (hs2) share. */
  let roomId: string;

  const api = <T = Json>(server: FederatedServer, method: string, path: string, body: unknown, user: TestUser) =>
    call<T>(server.clientUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);
  const room = (id: string) => `/rooms/${encodeURIComponent(id)}`;

  async function login(server: FederatedServer, user: TestUser, displayName?: string): Promise<TestUser> {
    const res = await call<Json>(server.clientUrl, 'POST', '/_matrix/client/v3/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: user.userId },
      password: PASSWORD,
      ...(displayName ? { initial_device_display_name: displayName } : {}),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { userId: user.userId, accessToken: res.body['access_token'] as string, deviceId: res.body['device_id'] as string };
  }

  async function queryKeys(server: FederatedServer, user: TestUser, of: string, timeout?: number): Promise<Json> {
    const res = await api<Json>(server, 'POST', '/keys/query', { device_keys: { [of]: [] }, ...(timeout === undefined ? {} : { timeout }) }, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  const devicesIn = (answer: Json, userId: string): Json => ((answer['device_keys'] as Json)[userId] as Json | undefined) ?? {};

  async function uploadKeys(server: FederatedServer, user: TestUser, body: Json): Promise<void> {
    const res = await api(server, 'POST', '/keys/upload', body, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  before(async () => {
    down = await blackHole('127.0.0.9');
    fed = await startFederation({
      servers: [
        { name: 'hs1.test', config: { federationHosts: { 'down.test': { host: '127.0.0.9', port: down.port } } } },
        { name: 'hs2.test', engine: 'postgres', config: { allowDeviceNameLookupOverFederation: true } },
      ],
    });
    [hs1, hs2] = fed.servers as [FederatedServer, FederatedServer];
    alice = await registerUser(hs1.clientUrl, 'alice', PASSWORD);
    [bob, carol] = await Promise.all([registerUser(hs2.clientUrl, 'bob', PASSWORD), registerUser(hs2.clientUrl, 'carol', PASSWORD)]);
    roomId = await sharedRoom(hs1, alice, hs2, bob);
  });
  after(async () => {
    await fed?.close();
    down?.server.close();
  });

  for (const version of ['12', '10']) {
    test(`v${version}: typing shows on the other server, both ways, and stops`, async () => {
      const typingRoom = await sharedRoom(hs1, alice, hs2, bob, { room_version: version });
      const typists = (body: Json): string[] | undefined => {
        const event = ephemeral(body, typingRoom).find((e) => e['type'] === 'm.typing');
        return event && ((event['content'] as Json)['user_ids'] as string[]);
      };
      const bobSince = await syncToken(hs2.clientUrl, bob);
      assert.equal((await api(hs1, 'PUT', `${room(typingRoom)}/typing/${encodeURIComponent(alice.userId)}`, { typing: true, timeout: 30_000 }, alice)).status, 200);
      await syncUntil(hs2.clientUrl, bob, (body) => (typists(body)?.includes(alice.userId) ? true : undefined), { since: bobSince });

      // Sliding sync reads the same typing stream.
      const sliding = await call<Json>(hs2.clientUrl, 'POST', '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync', {
        lists: { all: { ranges: [[0, 20]], timeline_limit: 0 } },
        extensions: { typing: { enabled: true } },
      }, bob.accessToken);
      assert.equal(sliding.status, 200, JSON.stringify(sliding.body));
      const slidingRooms = ((sliding.body['extensions'] as Json)['typing'] as Json)['rooms'] as Json;
      assert.deepEqual(slidingRooms[typingRoom], { type: 'm.typing', content: { user_ids: [alice.userId] } });

      const aliceSince = await syncToken(hs1.clientUrl, alice);
      assert.equal((await api(hs2, 'PUT', `${room(typingRoom)}/typing/${encodeURIComponent(bob.userId)}`, { typing: true, timeout: 30_000 }, bob)).status, 200);
      await syncUntil(hs1.clientUrl, alice, (body) => (typists(body)?.includes(bob.userId) ? true : undefined), { since: aliceSince });

      const stopSince = await syncToken(hs2.clientUrl, bob);
      assert.equal((await api(hs1, 'PUT', `${room(typingRoom)}/typing/${encodeURIComponent(alice.userId)}`, { typing: false }, alice)).status, 200);
      const after = await syncUntil(hs2.clientUrl, bob, (body) => { const ids = typists(body); return ids && !ids.includes(alice.userId) ? ids : undefined; }, { since: stopSince });
      assert.deepEqual(after, [bob.userId]);
    });

    test(`v${version}: read receipts cross both ways, threaded ones with their thread`, async () => {
      const receiptRoom = await sharedRoom(hs1, alice, hs2, bob, { room_version: version });
      const sent = await api<Json>(hs1, 'PUT', `${room(receiptRoom)}/send/m.room.message/r-${version}`, { msgtype: 'm.text', body: 'read me' }, alice);
      const eventId = sent.body['event_id'] as string;
      await waitFor('the message on hs2', async () => (await hs2.services.roomStore.events.getEvent(eventId)) !== undefined);
      const receiptOf = (body: Json, reader: string): Json | undefined => {
        for (const e of ephemeral(body, receiptRoom)) {
          const data = (((e['content'] as Json)[eventId] as Json | undefined)?.['m.read'] as Json | undefined)?.[reader] as Json | undefined;
          if (e['type'] === 'm.receipt' && data) return data;
        }
        return undefined;
      };

      const aliceSince = await syncToken(hs1.clientUrl, alice);
      const posted = await api(hs2, 'POST', `${room(receiptRoom)}/receipt/m.read/${encodeURIComponent(eventId)}`, { thread_id: 'main' }, bob);
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      const data = await syncUntil(hs1.clientUrl, alice, (body) => receiptOf(body, bob.userId), { since: aliceSince });
      assert.equal(data['thread_id'], 'main');
      assert.equal(typeof data['ts'], 'number');

      const bobSince = await syncToken(hs2.clientUrl, bob);
      assert.equal((await api(hs1, 'POST', `${room(receiptRoom)}/receipt/m.read/${encodeURIComponent(eventId)}`, {}, alice)).status, 200);
      const back = await syncUntil(hs2.clientUrl, bob, (body) => receiptOf(body, alice.userId), { since: bobSince });
      assert.equal(back['thread_id'], undefined, 'an unthreaded receipt stays unthreaded');
    });
  }

  test('a private read receipt sent by another server is not taken', async () => {
    const sent = await api<Json>(hs1, 'PUT', `${room(roomId)}/send/m.room.message/private-1`, { msgtype: 'm.text', body: 'private' }, alice);
    const eventId = sent.body['event_id'] as string;
    const receipt = (type: string): JsonObject => ({
      edu_type: 'm.receipt',
      content: { [roomId]: { [type]: { [bob.userId]: { event_ids: [eventId], data: { ts: 1 } } } } },
    });
    await sendEdus(hs2, hs1, [receipt('m.read.private')]);
    // Bob's own view is the only one that could show a private receipt of his.
    const asBob = await hs1.services.userData.receipts.receiptsForRooms([roomId], bob.userId);
    assert.equal(JSON.stringify(asBob.get(roomId) ?? {}).includes('m.read.private'), false);
    await sendEdus(hs2, hs1, [receipt('m.read')]);
    const afterPublic = await hs1.services.userData.receipts.receiptsForRooms([roomId], alice.userId);
    assert.ok(((afterPublic.get(roomId)?.[eventId]?.['m.read'] ?? {}) as Json)[bob.userId], 'the same receipt as m.read is taken');
  });

  test('presence goes to the servers sharing a room with the user, and to a server when it joins one', async () => {
    const presenceOf = (body: Json, userId: string): Json | undefined =>
      ((body['presence'] as Json | undefined)?.['events'] as Json[] | undefined)?.find((e) => e['sender'] === userId)?.['content'] as Json | undefined;
    const setPresence = async (server: FederatedServer, user: TestUser, presence: string, statusMsg: string) =>
      assert.equal((await api(server, 'PUT', `/presence/${encodeURIComponent(user.userId)}/status`, { presence, status_msg: statusMsg }, user)).status, 200);
    // Carol (hs2) and dave (hs1) share no room with anyone on the other server: their presence stays home.
    const dave = await registerUser(hs1.clientUrl, 'dave', PASSWORD);
    await setPresence(hs2, carol, 'unavailable', 'carol here');
    await setPresence(hs1, dave, 'online', 'dave here');
    const aliceSince = await syncToken(hs1.clientUrl, alice);
    const bobSince = await syncToken(hs2.clientUrl, bob);
    await setPresence(hs2, bob, 'online', 'hello from hs2');
    await setPresence(hs1, alice, 'online', 'hello from hs1');
    const bobSeen = await syncUntil(hs1.clientUrl, alice, (body) => presenceOf(body, bob.userId), { since: aliceSince });
    assert.deepEqual([bobSeen['presence'], bobSeen['status_msg']], ['online', 'hello from hs2']);
    const aliceSeen = await syncUntil(hs2.clientUrl, bob, (body) => presenceOf(body, alice.userId), { since: bobSince });
    assert.deepEqual([aliceSeen['presence'], aliceSeen['status_msg']], ['online', 'hello from hs1']);
    assert.equal((await hs1.services.userData.presence.currentOf([carol.userId])).size, 0, 'hs1 never heard of carol');
    assert.equal((await hs2.services.userData.presence.currentOf([dave.userId])).size, 0, 'hs2 never heard of dave');

    // Once dave and carol share a room, each server learns the other's user's presence.
    await sharedRoom(hs1, dave, hs2, carol);
    const carolSeen = await syncUntil(hs1.clientUrl, dave, (body) => presenceOf(body, carol.userId));
    assert.equal(carolSeen['status_msg'], 'carol here');
    const daveSeen = await syncUntil(hs2.clientUrl, carol, (body) => presenceOf(body, dave.userId));
    assert.equal(daveSeen['status_msg'], 'dave here');
  });

  test('to-device messages reach one device or all devices of a user on the other server, once', async () => {
    const bob2 = await login(hs2, bob);
    const toDevice = (body: Json): Json[] => ((body['to_device'] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
    const since1 = await syncToken(hs2.clientUrl, bob);
    const since2 = await syncToken(hs2.clientUrl, bob2);
    const all = await api(hs1, 'PUT', '/sendToDevice/m.test.all/t1', { messages: { [bob.userId]: { '*': { n: 1 } } } }, alice);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const one = await api(hs1, 'PUT', '/sendToDevice/m.test.one/t2', { messages: { [bob.userId]: { [bob.deviceId]: { n: 2 } } } }, alice);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    // A retried request (same txnId) sends nothing again.
    assert.equal((await api(hs1, 'PUT', '/sendToDevice/m.test.one/t2', { messages: { [bob.userId]: { [bob.deviceId]: { n: 2 } } } }, alice)).status, 200);

    // Messages may come over several syncs: each sync's are collected until `done`.
    const collect = (done: (seen: Json[]) => boolean) => {
      const seen: Json[] = [];
      return (body: Json) => {
        seen.push(...toDevice(body));
        return done(seen) ? seen : undefined;
      };
    };
    const first = await syncUntil(hs2.clientUrl, bob, collect((seen) => seen.length >= 2), { since: since1 });
    assert.deepEqual(first, [
      { type: 'm.test.all', sender: alice.userId, content: { n: 1 } },
      { type: 'm.test.one', sender: alice.userId, content: { n: 2 } },
    ]);
    const second = await syncUntil(hs2.clientUrl, bob2, collect((seen) => seen.length >= 1), { since: since2 });
    assert.deepEqual(second, [{ type: 'm.test.all', sender: alice.userId, content: { n: 1 } }]);

    // The same message_id twice (a transaction retried under a new ID) is delivered once; a spoofed sender never.
    const edu = (sender: string, messageId: string): JsonObject => ({
      edu_type: 'm.direct_to_device',
      content: { sender, type: 'm.test.edu', message_id: messageId, messages: { [bob2.userId]: { [bob2.deviceId]: { id: messageId } } } },
    });
    const since3 = await syncToken(hs2.clientUrl, bob2);
    await sendEdus(hs1, hs2, [edu(alice.userId, 'dup')]);
    await sendEdus(hs1, hs2, [edu(alice.userId, 'dup'), edu('@mallory:hs2.test', 'spoof'), edu(alice.userId, 'last')]);
    const got = await syncUntil(hs2.clientUrl, bob2, collect((seen) => seen.some((e) => (e['content'] as Json)['id'] === 'last')), { since: since3 });
    assert.deepEqual(got.map((e) => (e['content'] as Json)['id']), ['dup', 'last']);
  });

  test('a device added, renamed and deleted on hs2 shows for alice on hs1 in /sync, /keys/changes and /keys/query', async () => {
    // Alice's list of bob's devices is fetched (and tracked) first.
    await queryKeys(hs1, alice, bob.userId);
    const since = await syncToken(hs1.clientUrl, alice);
    const phone = await login(hs2, bob, 'Bob’s phone');
    const device = new TestDevice(bob.userId, phone.deviceId);
    const keys = device.deviceKeys();
    await uploadKeys(hs2, phone, { device_keys: keys });

    const changed = (body: Json): boolean => ((body['device_lists'] as Json | undefined)?.['changed'] as string[] | undefined)?.includes(bob.userId) === true;
    await syncUntil(hs1.clientUrl, alice, (body) => (changed(body) ? true : undefined), { since });
    const to = await syncToken(hs1.clientUrl, alice);
    const changes = await api<Json>(hs1, 'GET', `/keys/changes?from=${encodeURIComponent(since)}&to=${encodeURIComponent(to)}`, undefined, alice);
    assert.ok((changes.body['changed'] as string[]).includes(bob.userId), JSON.stringify(changes.body));

    const shown = devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId)[phone.deviceId] as Json;
    assert.deepEqual({ ...shown, unsigned: undefined }, { ...keys, unsigned: undefined }, 'the keys as uploaded, signatures and all');
    assert.deepEqual(shown['unsigned'], { device_display_name: 'Bob’s phone' }, 'hs2 shares device names');

    const renameSince = await syncToken(hs1.clientUrl, alice);
    assert.equal((await api(hs2, 'PUT', `/devices/${encodeURIComponent(phone.deviceId)}`, { display_name: 'Bob’s old phone' }, phone)).status, 200);
    await syncUntil(hs1.clientUrl, alice, (body) => (changed(body) ? true : undefined), { since: renameSince });
    const renamed = devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId)[phone.deviceId] as Json;
    assert.deepEqual(renamed['unsigned'], { device_display_name: 'Bob’s old phone' });

    const deleteSince = await syncToken(hs1.clientUrl, alice);
    const challenge = await api<Json>(hs2, 'DELETE', `/devices/${encodeURIComponent(phone.deviceId)}`, {}, bob);
    const auth = { type: 'm.login.password', session: challenge.body['session'], identifier: { type: 'm.id.user', user: bob.userId }, password: PASSWORD };
    assert.equal((await api(hs2, 'DELETE', `/devices/${encodeURIComponent(phone.deviceId)}`, { auth }, bob)).status, 200);
    await syncUntil(hs1.clientUrl, alice, (body) => (changed(body) ? true : undefined), { since: deleteSince });
    assert.equal(devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId)[phone.deviceId], undefined, 'the deleted device is gone');
  });

  test('a user joining a room with a server that shared none with them sends it their devices', async () => {
    const erin = await registerUser(hs2.clientUrl, 'erin', PASSWORD);
    await uploadKeys(hs2, erin, { device_keys: new TestDevice(erin.userId, erin.deviceId).deviceKeys() });
    const tracked = () => hs1.services.db.queryOne<{ stale: number }>('SELECT stale FROM e2e_remote_device_lists WHERE user_id = ?', [erin.userId]);
    assert.equal(await tracked(), undefined, 'hs1 knows nothing of erin yet');
    await sharedRoom(hs1, alice, hs2, erin);
    // Nobody on hs1 asked for erin's keys: hs1 fetched her list because hs2 sent her devices when she joined.
    await waitFor('hs1 to fetch erin’s list', async () => Number((await tracked())?.stale ?? 1) === 0);
  });

  test('device names stay home unless the server shares them', async () => {
    const laptop = await login(hs1, alice, 'Alice’s laptop');
    const keys = new TestDevice(alice.userId, laptop.deviceId).deviceKeys();
    await uploadKeys(hs1, laptop, { device_keys: keys });
    const shown = await waitFor('hs2 to see alice’s new device', async () => devicesIn(await queryKeys(hs2, bob, alice.userId), alice.userId)[laptop.deviceId] as Json | undefined);
    assert.deepEqual(shown, keys, 'hs1 does not share device names (the default)');
  });

  test('one-time keys are claimed across servers, each once, then the fallback key', async () => {
    const tablet = await login(hs2, bob);
    const device = new TestDevice(bob.userId, tablet.deviceId);
    await uploadKeys(hs2, tablet, { device_keys: device.deviceKeys(), one_time_keys: device.oneTimeKeys(2), fallback_keys: device.fallbackKey() });
    const claim = async () => {
      const res = await api<Json>(hs1, 'POST', '/keys/claim', { one_time_keys: { [bob.userId]: { [tablet.deviceId]: 'signed_curve25519' } } }, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body['failures'], {});
      const keys = ((res.body['one_time_keys'] as Json)[bob.userId] as Json)[tablet.deviceId] as Json;
      return Object.entries(keys)[0]!;
    };
    const [firstId, first] = await claim();
    const [secondId] = await claim();
    const [thirdId, third] = await claim();
    assert.notEqual(firstId, secondId);
    assert.equal(thirdId, 'signed_curve25519:FALLBACK1');
    assert.equal((third as Json)['fallback'], true);
    assert.equal(((first as Json)['signatures'] as Json)[bob.userId] !== undefined, true, 'keys come signed by the device');
  });

  test('cross-signing keys of a user on the other server are seen, kept current, and can be signed', async () => {
    await queryKeys(hs1, alice, bob.userId);
    const since = await syncToken(hs1.clientUrl, alice);
    const bobKeys = crossSigningSet(bob.userId);
    assert.equal((await api(hs2, 'POST', '/keys/device_signing/upload', bobKeys.body, bob)).status, 200);
    const changed = (body: Json): boolean => ((body['device_lists'] as Json | undefined)?.['changed'] as string[] | undefined)?.includes(bob.userId) === true;
    await syncUntil(hs1.clientUrl, alice, (body) => (changed(body) ? true : undefined), { since });
    const masterOf = (answer: Json): Json | undefined => (answer['master_keys'] as Json)[bob.userId] as Json | undefined;
    const seen = await queryKeys(hs1, alice, bob.userId);
    assert.deepEqual(masterOf(seen)?.['keys'], bobKeys.body.master_key['keys']);
    assert.ok((seen['self_signing_keys'] as Json)[bob.userId]);
    assert.equal((seen['user_signing_keys'] as Json)[bob.userId], undefined, 'a user-signing key never leaves its server');

    // Alice verifies bob: her user-signing key signs his master key, which hs1 holds.
    const aliceKeys = crossSigningSet(alice.userId);
    assert.equal((await api(hs1, 'POST', '/keys/device_signing/upload', aliceKeys.body, alice)).status, 200);
    const signed = signAs(bobKeys.body.master_key, alice.userId, aliceKeys.userSigning, `ed25519:${publicKeyOf(aliceKeys.userSigning)}`);
    const upload = await api<Json>(hs1, 'POST', '/keys/signatures/upload', { [bob.userId]: { [publicKeyOf(bobKeys.master)]: signed } }, alice);
    assert.deepEqual(upload.body['failures'], {}, JSON.stringify(upload.body));
    const signatures = masterOf(await queryKeys(hs1, alice, bob.userId))?.['signatures'] as Json;
    assert.ok((signatures[alice.userId] as Json)[`ed25519:${publicKeyOf(aliceKeys.userSigning)}`], 'alice sees her signature on bob’s master key');

    // Bob cross-signs a device of his: the signature reaches hs1 with the device's keys (m.device_list_update).
    const watch = await login(hs2, bob);
    const watchKeys = new TestDevice(bob.userId, watch.deviceId).deviceKeys();
    await uploadKeys(hs2, watch, { device_keys: watchKeys });
    const sskId = `ed25519:${publicKeyOf(bobKeys.selfSigning)}`;
    const selfSigned = await api<Json>(hs2, 'POST', '/keys/signatures/upload', { [bob.userId]: { [watch.deviceId]: signAs(watchKeys, bob.userId, bobKeys.selfSigning, sskId) } }, bob);
    assert.deepEqual(selfSigned.body['failures'], {}, JSON.stringify(selfSigned.body));
    await waitFor('hs1 to show bob’s signature on his device', async () => {
      const device = devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId)[watch.deviceId] as Json | undefined;
      return ((device?.['signatures'] as Json | undefined)?.[bob.userId] as Json | undefined)?.[sskId];
    });

    // Bob replaces his keys: hs1 is told by m.signing_key_update.
    const replaced = crossSigningSet(bob.userId);
    const challenge = await api<Json>(hs2, 'POST', '/keys/device_signing/upload', replaced.body, bob);
    const auth = { type: 'm.login.password', session: challenge.body['session'], identifier: { type: 'm.id.user', user: bob.userId }, password: PASSWORD };
    assert.equal((await api(hs2, 'POST', '/keys/device_signing/upload', { ...replaced.body, auth }, bob)).status, 200);
    await waitFor('hs1 to hold bob’s new master key', async () =>
      JSON.stringify(masterOf(await queryKeys(hs1, alice, bob.userId))?.['keys']) === JSON.stringify(replaced.body.master_key['keys']),
    );
  });

  test('an update that continues the list is applied; one after a missed update makes hs1 fetch the list', async () => {
    const current = await hs1.services.federation.client.request<Json>(hs2.name, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(bob.userId)}`);
    await queryKeys(hs1, alice, bob.userId);
    // Earlier tests' updates may still be on their way: wait until hs1's copy is as recent as hs2's list.
    await waitFor('hs1 to hold bob’s latest list', async () => {
      const row = await hs1.services.db.queryOne<{ stream_id: string; stale: number }>('SELECT stream_id, stale FROM e2e_remote_device_lists WHERE user_id = ?', [bob.userId]);
      return row?.stream_id === String(current['stream_id']) && Number(row.stale) === 0;
    });
    const streamId = current['stream_id'] as number;
    const update = (deviceId: string, stream: number, prev: number): JsonObject => ({
      edu_type: 'm.device_list_update',
      content: { user_id: bob.userId, device_id: deviceId, stream_id: stream, prev_id: [prev], keys: new TestDevice(bob.userId, deviceId).deviceKeys() as JsonObject },
    });
    await sendEdus(hs2, hs1, [update('NEXT', streamId + 1000, streamId)]);
    await waitFor('hs1 to apply the update', async () => devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId)['NEXT']);

    // prev_id names an update hs1 never saw: it fetches bob's real list, which has neither device.
    await sendEdus(hs2, hs1, [update('GAP', streamId + 3000, streamId + 2000)]);
    await waitFor('hs1 to fetch the list again', async () => {
      const devices = devicesIn(await queryKeys(hs1, alice, bob.userId), bob.userId);
      return devices['NEXT'] === undefined && devices['GAP'] === undefined;
    });
  });

  test('room EDUs are ignored when the ACL denies the sender, the user is not joined or not the sender’s, or the room is unknown', async () => {
    const aclRoom = await sharedRoom(hs1, alice, hs2, bob);
    const typing = (roomIdOf: string, userId: string): JsonObject => ({ edu_type: 'm.typing', content: { room_id: roomIdOf, user_id: userId, typing: true } });
    const typists = (id: string) => hs1.services.userData.typing.typingSnapshot(id);

    await sendEdus(hs2, hs1, [typing(aclRoom, carol.userId), typing(aclRoom, alice.userId), typing('!unknown:hs2.test', bob.userId)]);
    assert.deepEqual(typists(aclRoom), [], 'carol is not in the room and alice is not hs2’s');
    await sendEdus(hs2, hs1, [typing(aclRoom, bob.userId)]);
    assert.deepEqual(typists(aclRoom), [bob.userId], 'the same EDU about a joined user of hs2 is taken');

    const acl = await api(hs1, 'PUT', `${room(aclRoom)}/state/m.room.server_acl`, { allow: ['*'], deny: ['hs2.test'], allow_ip_literals: false }, alice);
    assert.equal(acl.status, 200, JSON.stringify(acl.body));
    await sendEdus(hs2, hs1, [{ edu_type: 'm.typing', content: { room_id: aclRoom, user_id: bob.userId, typing: false } }]);
    assert.deepEqual(typists(aclRoom), [bob.userId], 'a denied server cannot stop typing either');
    const sent = await api<Json>(hs1, 'PUT', `${room(aclRoom)}/send/m.room.message/acl-1`, { msgtype: 'm.text', body: 'x' }, alice);
    const eventId = sent.body['event_id'] as string;
    await sendEdus(hs2, hs1, [{ edu_type: 'm.receipt', content: { [aclRoom]: { 'm.read': { [bob.userId]: { event_ids: [eventId], data: { ts: 1 } } } } } }]);
    const receipts = await hs1.services.userData.receipts.receiptsForRooms([aclRoom], alice.userId);
    assert.equal(receipts.get(aclRoom)?.[eventId], undefined, 'the receipt of a denied server is dropped');
  });

  test('keys of users on a server that does not answer come back as failures within the timeout', async () => {
    const started = Date.now();
    const query = await api<Json>(hs1, 'POST', '/keys/query', { device_keys: { '@x:down.test': [], [bob.userId]: [] }, timeout: 500 }, alice);
    assert.equal(query.status, 200, JSON.stringify(query.body));
    assert.ok((query.body['failures'] as Json)['down.test'], JSON.stringify(query.body));
    assert.ok(bob.userId in (query.body['device_keys'] as Json), 'the server that answers is not held up by the one that does not');
    const claim = await api<Json>(hs1, 'POST', '/keys/claim', { one_time_keys: { '@x:down.test': { DEV: 'signed_curve25519' } }, timeout: 500 }, alice);
    assert.ok((claim.body['failures'] as Json)['down.test'], JSON.stringify(claim.body));
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  test('the federation key endpoints answer for this server’s users only', async () => {
    const client = hs2.services.federation.client;
    const devices = await client.request<Json>(hs1.name, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(alice.userId)}`);
    assert.equal(devices['user_id'], alice.userId);
    assert.equal(typeof devices['stream_id'], 'number');
    assert.ok(Array.isArray(devices['devices']));
    for (const d of devices['devices'] as Json[]) {
      assert.equal(((d['keys'] as Json)['device_id']), d['device_id']);
      assert.equal(d['device_display_name'], undefined, 'hs1 does not share device names');
    }
    await assert.rejects(client.request(hs1.name, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(bob.userId)}`), (err: { status?: number; errcode?: string }) => err.status === 400 && err.errcode === 'M_INVALID_PARAM');
    await assert.rejects(client.request(hs1.name, 'GET', '/_matrix/federation/v1/user/devices/not-a-user'), (err: { status?: number }) => err.status === 400);

    const query = await client.request<Json>(hs1.name, 'POST', '/_matrix/federation/v1/user/keys/query', { body: { device_keys: { [alice.userId]: [], [bob.userId]: [] } } });
    assert.deepEqual(Object.keys(query['device_keys'] as Json), [alice.userId], 'only local users are answered for');
    const bad = client.request(hs1.name, 'POST', '/_matrix/federation/v1/user/keys/claim', { body: { one_time_keys: { [alice.userId]: ['x'] } } });
    await assert.rejects(bad, (err: { status?: number; errcode?: string }) => err.status === 400 && err.errcode === 'M_BAD_JSON');
  });
});
