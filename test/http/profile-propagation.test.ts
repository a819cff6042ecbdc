// A profile change reaches rooms (as Synapse's profile handler): after PUT
// /profile/{userId}/displayname or avatar_url, the user's join is re-sent in
// every room they are joined to with the new values, so the other members see
// them in the room state and in /sync. The PUT answers at once; the rooms are
// updated in the background, one after another, and in the order of the
// changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { waitFor } from '../helpers/wait.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`profile changes reach rooms (${engine})`, () => {
    let hs: TestHomeserver;
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `${V3}${path}`, body, user.accessToken);
    const setProfile = async (user: TestUser, key: 'displayname' | 'avatar_url', value: string) => {
      const res = await api('PUT', `/profile/${enc(user.userId)}/${key}`, { [key]: value }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const member = async (roomId: string, user: TestUser, as: TestUser) => (await api('GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(user.userId)}`, undefined, as)).body;
    const sharedRoom = async (owner: TestUser, other: TestUser, version = '10') => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, owner)).body.room_id as string;
      assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, other)).status, 200);
      return roomId;
    };

    before(async () => {
      hs = await startTestHomeserver({ engine });
    });
    after(async () => hs.close());

    for (const version of ['10', '12']) {
      test(`another member sees the new display name and avatar in the room state and in /sync (v${version})`, async () => {
        const [alice, bob] = await Promise.all([registerUser(hs.baseUrl, `alice${version}`), registerUser(hs.baseUrl, `bob${version}`)]);
        const roomId = await sharedRoom(alice, bob, version);
        const since = (await api('GET', '/sync?timeout=0', undefined, bob)).body.next_batch as string;
        await setProfile(alice, 'displayname', 'Alice Liddell');
        await setProfile(alice, 'avatar_url', 'mxc://localhost/rabbit');
        const seen = await waitFor('alice’s new avatar in the room', async () => {
          const content = await member(roomId, alice, bob);
          return content.avatar_url === 'mxc://localhost/rabbit' && content;
        });
        assert.deepEqual(seen, { membership: 'join', displayname: 'Alice Liddell', avatar_url: 'mxc://localhost/rabbit' });
        // The stream position of an event becomes readable just after its state does: poll /sync too.
        const latest = await waitFor('alice’s new avatar in bob’s /sync', async () => {
          const sync = await api('GET', `/sync?timeout=0&since=${enc(since)}`, undefined, bob);
          const members = ((sync.body.rooms?.join?.[roomId]?.timeline?.events ?? []) as Json[]).filter((e) => e.type === 'm.room.member' && e.state_key === alice.userId);
          return members.at(-1)?.content?.avatar_url === 'mxc://localhost/rabbit' && members.at(-1);
        });
        assert.deepEqual(latest.content, seen);
        assert.equal(latest.sender, alice.userId);
      });
    }

    test('a per-room name is overwritten as Synapse does, other keys are kept, and rooms the user left are untouched', async () => {
      const [carol, dave] = await Promise.all([registerUser(hs.baseUrl, 'carol'), registerUser(hs.baseUrl, 'dave')]);
      const nicknamed = await sharedRoom(dave, carol);
      const left = await sharedRoom(dave, carol);
      const nick = await api('PUT', `/rooms/${enc(nicknamed)}/state/m.room.member/${enc(carol.userId)}`, { membership: 'join', displayname: 'Room Carol', 'org.example.badge': 'gold' }, carol);
      assert.equal(nick.status, 200, JSON.stringify(nick.body));
      assert.equal((await api('POST', `/rooms/${enc(left)}/leave`, {}, carol)).status, 200);
      await setProfile(carol, 'displayname', 'Carol Danvers');
      await waitFor('carol’s new name in the room', async () => (await member(nicknamed, carol, dave)).displayname === 'Carol Danvers');
      assert.deepEqual(await member(nicknamed, carol, dave), { membership: 'join', displayname: 'Carol Danvers', 'org.example.badge': 'gold' });
      assert.deepEqual(await member(left, carol, dave), { membership: 'leave' });
    });

    test('with 50 rooms the PUT answers before they are all updated, and they all are, with the latest of two quick changes', async () => {
      const erin = await registerUser(hs.baseUrl, 'erin');
      const rooms: string[] = [];
      for (let i = 0; i < 50; i++) rooms.push((await api('POST', '/createRoom', { preset: 'public_chat' }, erin)).body.room_id as string);
      const since = (await api('GET', '/sync?timeout=0', undefined, erin)).body.next_batch as string;
      // Each room's member events of erin since the rooms were made, by display name, oldest first.
      const namesByRoom = async () => {
        const sync = await api('GET', `/sync?timeout=0&since=${enc(since)}`, undefined, erin);
        const joined = (sync.body.rooms?.join ?? {}) as Record<string, Json>;
        return rooms.map((roomId) => ((joined[roomId]?.timeline.events ?? []) as Json[]).filter((e) => e.type === 'm.room.member').map((e) => e.content.displayname));
      };
      await setProfile(erin, 'displayname', 'Erin One');
      assert.ok((await namesByRoom()).some((names) => names.length === 0), 'the PUT did not wait for every room');
      await setProfile(erin, 'displayname', 'Erin Two');
      await waitFor('every room to show the second name', async () => (await namesByRoom()).every((names) => names.includes('Erin Two')), 60_000);
      for (const [i, names] of (await namesByRoom()).entries()) {
        assert.equal(names.at(-1), 'Erin Two', `room ${i}: the first change never lands after the second (${names.join(', ')})`);
        assert.equal((await member(rooms[i]!, erin, erin)).displayname, 'Erin Two');
      }
    });
  });
}

// Synapse's allow_per_room_profiles: false — a member event always carries the global profile.
describe('without per-room profiles', () => {
  let hs: TestHomeserver;
  before(async () => {
    hs = await startTestHomeserver({ config: { allowPerRoomProfiles: false } });
  });
  after(async () => hs.close());

  test('a per-room display name or avatar is replaced by the global profile', async () => {
    const [gina, hank] = await Promise.all([registerUser(hs.baseUrl, 'gina'), registerUser(hs.baseUrl, 'hank')]);
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `${V3}${path}`, body, user.accessToken);
    await api('PUT', `/profile/${enc(gina.userId)}/displayname`, { displayname: 'Gina' }, gina);
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, gina)).body.room_id as string;
    const memberPath = (user: TestUser) => `/rooms/${enc(roomId)}/state/m.room.member/${enc(user.userId)}`;
    const nick = await api('PUT', memberPath(gina), { membership: 'join', displayname: 'Room Gina', avatar_url: 'mxc://localhost/room', 'org.example.badge': 'gold' }, gina);
    assert.equal(nick.status, 200, JSON.stringify(nick.body));
    assert.deepEqual((await api('GET', memberPath(gina), undefined, gina)).body, { membership: 'join', displayname: 'Gina', 'org.example.badge': 'gold' });
    const joined = await api('PUT', memberPath(hank), { membership: 'join', displayname: 'Hank the Room' }, hank);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal((await api('GET', memberPath(hank), undefined, gina)).body.displayname, 'hank');
  });
});
