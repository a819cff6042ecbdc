// Pushes for what arrives over federation: an invite from a user of another
// server to a room this server is not in rings the invitee's phone, named
// from the room's stripped state, as Synapse's `.m.rule.invite_for_me` does.
// Room versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';
import { FakeGateway } from '../helpers/push-gateway.js';

describe('pushes across two servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let alice: TestUser;
  let bob: TestUser;
  let gateway: FakeGateway;

  before(async () => {
    gateway = new FakeGateway();
    const url = await gateway.start();
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
    const pusher = { kind: 'http', app_id: 'im.axon.test', pushkey: 'bob-phone', app_display_name: 'Axon', device_display_name: 'phone', lang: 'en', data: { url } };
    assert.equal((await call(hs2, 'POST', '/_matrix/client/v3/pushers/set', pusher, bob.accessToken)).status, 200);
  });
  after(async () => {
    await fed.close();
    await gateway.close();
  });

  for (const version of ['12', '10']) {
    test(`v${version}: an invite over federation is pushed to the invitee, with the room's name`, async () => {
      const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { room_version: version, name: `Invite push ${version}` }, alice.accessToken);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body['room_id'] as string;
      const before = gateway.received.length;
      const invited = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
      assert.equal(invited.status, 200, JSON.stringify(invited.body));

      await gateway.waitFor(before + 1);
      const { notification } = gateway.received[before]!.body;
      assert.equal(notification['type'], 'm.room.member');
      assert.equal(notification['room_id'], roomId);
      assert.equal(notification['sender'], alice.userId);
      assert.equal(notification['membership'], 'invite');
      assert.equal(notification['user_is_target'], true);
      assert.equal(notification['room_name'], `Invite push ${version}`);
      assert.deepEqual(notification.devices[0]!['tweaks'], { sound: 'default' }, '.m.rule.invite_for_me rings');
    });
  }
});
