// Guests in rooms (client-server-api/modules/guest_access.md): a guest's
// display name reaches the rooms it is in, and when a room stops admitting
// guests (m.room.guest_access no longer can_join) this server's guests leave
// it, as Synapse's kick_guest_users makes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { waitFor } from '../helpers/wait.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`guests in rooms (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `${V3}${path}`, body, user.accessToken);
    const registerGuest = async (): Promise<TestUser> => {
      const res = await call<Json>(hs.baseUrl, 'POST', `${V3}/register?kind=guest`, {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id };
    };
    const member = async (roomId: string, user: TestUser) => (await api('GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(user.userId)}`, undefined, alice)).body;
    const guestRoom = async (version: string) => {
      const created = await api('POST', '/createRoom', {
        preset: 'public_chat',
        room_version: version,
        initial_state: [{ type: 'm.room.guest_access', state_key: '', content: { guest_access: 'can_join' } }],
      }, alice);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      return created.body.room_id as string;
    };

    before(async () => {
      hs = await startTestHomeserver({ engine, config: { allowGuestAccess: true } });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    });
    after(async () => hs.close());

    for (const version of ['10', '12']) {
      test(`a guest sets a display name and the room shows it (v${version})`, async () => {
        const roomId = await guestRoom(version);
        const guest = await registerGuest();
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, guest)).status, 200);
        const set = await api('PUT', `/profile/${enc(guest.userId)}/displayname`, { displayname: 'Visiting Vera' }, guest);
        assert.equal(set.status, 200, JSON.stringify(set.body));
        await waitFor('the guest’s name in the room', async () => (await member(roomId, guest)).displayname === 'Visiting Vera');
      });

      test(`revoking guest access makes joined and invited guests leave, and no one else (v${version})`, async () => {
        const roomId = await guestRoom(version);
        const [joined, invited] = [await registerGuest(), await registerGuest()];
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, joined)).status, 200);
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, bob)).status, 200);
        assert.equal((await api('POST', `/rooms/${enc(roomId)}/invite`, { user_id: invited.userId }, alice)).status, 200);
        const revoke = await api('PUT', `/rooms/${enc(roomId)}/state/m.room.guest_access/`, { guest_access: 'forbidden' }, alice);
        assert.equal(revoke.status, 200, JSON.stringify(revoke.body));
        for (const guest of [joined, invited]) {
          await waitFor(`${guest.userId} to leave`, async () => (await member(roomId, guest)).membership === 'leave');
        }
        const state = (await api('GET', `/rooms/${enc(roomId)}/state`, undefined, alice)).body as Json[];
        const leaves = state.filter((e) => e.type === 'm.room.member' && e.content.membership === 'leave');
        assert.deepEqual(leaves.map((e) => e.sender).sort(), [joined.userId, invited.userId].sort(), 'each guest leaves as itself');
        assert.equal((await member(roomId, bob)).membership, 'join');
        assert.equal((await member(roomId, alice)).membership, 'join');
        const again = await api('POST', `/join/${enc(roomId)}`, {}, joined);
        assert.equal(again.body.errcode, 'M_GUEST_ACCESS_FORBIDDEN');
      });
    }
  });
}
