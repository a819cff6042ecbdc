// End-to-end encryption across two Axon servers through matrix-js-sdk's
// Rust crypto: a user on hs1 and a user on hs2 share an encrypted room and
// read each other. It takes every piece of federated e2ee: the other
// server's device list (GET /user/devices behind /keys/query), one-time keys
// claimed across (/user/keys/claim), the Olm-encrypted room keys sent as
// m.direct_to_device EDUs, and a new device of one user reaching the other
// through m.device_list_update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';
import { decrypted, startCryptoClient } from './crypto-clients.js';
import { waitFor } from './sdk-helpers.js';

const PASSWORD = 'correct horse battery';
/** Federation adds hops (queue, transaction, fetches back): a little more room than a single server needs. */
const ACROSS_MS = 20_000;

describe('matrix-js-sdk Rust crypto across two Axon servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let aliceUser: TestUser;
  let alice: sdk.MatrixClient;
  let bob: sdk.MatrixClient;
  let roomId: string;
  const extra: sdk.MatrixClient[] = [];

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine: 'postgres' }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    const [a, b] = await Promise.all([registerUser(hs1, 'alice', PASSWORD), registerUser(hs2, 'bob', PASSWORD)]);
    aliceUser = a;
    [alice, bob] = await Promise.all([startCryptoClient(hs1, a), startCryptoClient(hs2, b)]);
  });
  after(async () => {
    for (const client of [alice, bob, ...extra]) client?.stopClient();
    await fed?.close();
  });

  test('users of two servers read each other in an encrypted room', async () => {
    ({ room_id: roomId } = await alice.createRoom({
      name: 'Secret across',
      preset: sdk.Preset.PrivateChat,
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    }));
    await alice.invite(roomId, bob.getUserId()!);
    await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, ACROSS_MS);
    await bob.joinRoom(roomId);
    await waitFor('alice to see bob join', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === sdk.KnownMembership.Join, ACROSS_MS);
    await waitFor('bob’s client to know the room is encrypted', () => bob.getCrypto()!.isEncryptionEnabledInRoom(roomId), ACROSS_MS);
    // Alice's client learns bob's device through hs1 from hs2 (his keys may still have been on their way when he
    // joined; hs2 then tells hs1 with m.device_list_update). A message sent before that could not be for him.
    await waitFor('alice to know bob’s device', async () => {
      const devices = await alice.getCrypto()!.getUserDeviceInfo([bob.getUserId()!]);
      return devices.get(bob.getUserId()!)?.has(bob.getDeviceId()!);
    }, ACROSS_MS);

    const { event_id: hello } = await alice.sendTextMessage(roomId, 'hello bob on hs2, secretly');
    await decrypted(bob, roomId, hello, 'hello bob on hs2, secretly', ACROSS_MS);
    const { event_id: hi } = await bob.sendTextMessage(roomId, 'hi alice on hs1, secretly');
    await decrypted(alice, roomId, hi, 'hi alice on hs1, secretly', ACROSS_MS);
  });

  test('a new device on one server gets keys from the other server’s user', async () => {
    const login = await call<{ user_id: string; access_token: string; device_id: string }>(hs1, 'POST', '/_matrix/client/v3/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: aliceUser.userId },
      password: PASSWORD,
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const second = await startCryptoClient(hs1, { userId: login.body.user_id, accessToken: login.body.access_token, deviceId: login.body.device_id });
    extra.push(second);
    // Bob's server learns of the device from hs1's m.device_list_update; bob's client from /sync device_lists.
    await waitFor('bob to know alice’s second device', async () => {
      const devices = await bob.getCrypto()!.getUserDeviceInfo([aliceUser.userId]);
      return devices.get(aliceUser.userId)?.has(second.getDeviceId()!);
    }, ACROSS_MS);
    const { event_id: forBoth } = await bob.sendTextMessage(roomId, 'for both your devices');
    await decrypted(second, roomId, forBoth, 'for both your devices', ACROSS_MS);
    await decrypted(alice, roomId, forBoth, 'for both your devices', ACROSS_MS);
  });
});
