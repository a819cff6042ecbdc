// End-to-end encryption through matrix-js-sdk's Rust crypto against a real
// Axon: two people chat in an encrypted room and read each other, a second
// device of one of them receives keys for new messages, cross-signing is
// bootstrapped and seen by the other person, and a fresh device restores the
// old history from server-side key backup.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { clearBody, decrypted, startCryptoClient } from './crypto-clients.js';
import { waitFor } from './sdk-helpers.js';

const PASSWORD = 'correct horse battery';

async function login(hs: TestHomeserver, userId: string): Promise<TestUser> {
  const res = await call<{ user_id: string; access_token: string; device_id: string }>(hs.baseUrl, 'POST', '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: userId },
    password: PASSWORD,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id };
}

for (const engine of ENGINES) {
  describe(`matrix-js-sdk Rust crypto against Axon (${engine})`, () => {
    let hs: TestHomeserver;
    let aliceUser: TestUser;
    let alice: sdk.MatrixClient;
    let bob: sdk.MatrixClient;
    let roomId: string;
    const extra: sdk.MatrixClient[] = [];

    before(async () => {
      hs = await startTestHomeserver({ engine });
      const [a, b] = await Promise.all([registerUser(hs.baseUrl, 'alice', PASSWORD), registerUser(hs.baseUrl, 'bob', PASSWORD)]);
      aliceUser = a;
      [alice, bob] = await Promise.all([startCryptoClient(hs.baseUrl, a), startCryptoClient(hs.baseUrl, b)]);
    });
    after(async () => {
      for (const client of [alice, bob, ...extra]) client?.stopClient();
      await hs?.close();
    });

    test('two people read each other in an encrypted room', async () => {
      ({ room_id: roomId } = await alice.createRoom({
        name: 'Secret',
        preset: sdk.Preset.PrivateChat,
        invite: [bob.getUserId()!],
        initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
      }));
      await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite);
      await bob.joinRoom(roomId);
      await waitFor('alice to see bob join', () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === sdk.KnownMembership.Join);
      assert.ok(await alice.getCrypto()!.isEncryptionEnabledInRoom(roomId));

      const { event_id: hello } = await alice.sendTextMessage(roomId, 'hello bob, secretly');
      await decrypted(bob, roomId, hello, 'hello bob, secretly');
      const { event_id: hi } = await bob.sendTextMessage(roomId, 'hi alice, secretly');
      await decrypted(alice, roomId, hi, 'hi alice, secretly');
    });

    test('a second device receives keys for new messages', async () => {
      const second = await startCryptoClient(hs.baseUrl, await login(hs, aliceUser.userId));
      extra.push(second);
      await waitFor('the room in the second device', () => second.getRoom(roomId));
      // Bob learns of the new device through device_lists.changed in his sync.
      await waitFor('bob to know the second device', async () => {
        const devices = await bob.getCrypto()!.getUserDeviceInfo([aliceUser.userId]);
        return devices.get(aliceUser.userId)?.has(second.getDeviceId()!);
      });
      const { event_id: fromBob } = await bob.sendTextMessage(roomId, 'for both your devices');
      await decrypted(second, roomId, fromBob, 'for both your devices');
      await decrypted(alice, roomId, fromBob, 'for both your devices');
      const { event_id: fromFirst } = await alice.sendTextMessage(roomId, 'from the first device');
      await decrypted(second, roomId, fromFirst, 'from the first device');
    });

    test('cross-signing is bootstrapped and seen by the other person', async () => {
      const crypto = alice.getCrypto()!;
      await crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: async (makeRequest) => {
          await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: aliceUser.userId }, password: PASSWORD });
        },
      });
      assert.ok(await crypto.isCrossSigningReady());
      const masterKey = await crypto.getCrossSigningKeyId();
      assert.ok(masterKey);

      // Bob downloads alice's identity and sees her device signed by it.
      await waitFor('bob to see alice’s device cross-signed', async () => {
        const status = await bob.getCrypto()!.getDeviceVerificationStatus(aliceUser.userId, alice.getDeviceId()!);
        return status?.signedByOwner;
      });
      const identity = await bob.getCrypto()!.getUserVerificationStatus(aliceUser.userId);
      assert.equal(identity.isCrossSigningVerified(), false, 'bob has not verified alice yet');
    });

    test('a fresh device restores old history from key backup', async () => {
      const { event_id: old } = await alice.sendTextMessage(roomId, 'before the backup');
      await decrypted(bob, roomId, old, 'before the backup');
      const crypto = alice.getCrypto()!;
      // The SDK waits a random 0–10 s before uploading keys to a new backup,
      // to spread load across clients. resetKeyBackup starts the backup check
      // without awaiting it, and checkKeyBackupAndEnable hands back that same
      // check, so pinning Math.random until it settles makes the wait zero.
      const random = Math.random;
      Math.random = () => 0;
      try {
        await crypto.resetKeyBackup();
        await crypto.checkKeyBackupAndEnable();
      } finally {
        Math.random = random;
      }
      const version = await waitFor('the backup to be active', () => crypto.getActiveSessionBackupVersion());
      const key = await crypto.getSessionBackupPrivateKey();
      assert.ok(key);
      await waitFor('the room keys to be uploaded', async () => {
        const res = await call<{ rooms: Record<string, { sessions: Record<string, unknown> }> }>(
          hs.baseUrl, 'GET', `/_matrix/client/v3/room_keys/keys?version=${version}`, undefined, aliceUser.accessToken);
        return res.status === 200 && Object.keys(res.body.rooms[roomId]?.sessions ?? {}).length > 0;
      }, 15_000);

      const fresh = await startCryptoClient(hs.baseUrl, await login(hs, aliceUser.userId));
      extra.push(fresh);
      await waitFor('the old message in the fresh device', () => fresh.getRoom(roomId)?.findEventById(old));
      assert.equal(clearBody(fresh, roomId, old), undefined, 'the fresh device cannot read old history yet');
      await fresh.getCrypto()!.storeSessionBackupPrivateKey(key, version);
      const result = await fresh.getCrypto()!.restoreKeyBackup();
      assert.ok(result.imported > 0, `imported ${result.imported} of ${result.total}`);
      await decrypted(fresh, roomId, old, 'before the backup');
    });
  });
}
