// m.room.member sent through PUT /rooms/{roomId}/state: per-room display
// names (Element's /myroomnick re-sends the member's join with a new
// displayname), joining with one, and the other memberships, as Synapse
// handles them; the authorisation rules decide.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

const AVATAR = 'mxc://localhost/alice-avatar';

describeEngineAndRoomVersions('m.room.member through the state API', (server, version) => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  const api = (method: string, path: string, body: unknown, user: TestUser) => call(server().baseUrl, method, path, body, user.accessToken);
  const memberPath = (user: TestUser) => `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(user.userId)}`;
  const putMember = (user: TestUser, content: unknown, as = user) => api('PUT', memberPath(user), content, as);
  const member = async (user: TestUser) => (await api('GET', memberPath(user), undefined, alice)).body;

  before(async () => {
    alice = await registerUser(server().baseUrl, `alice${version}`);
    bob = await registerUser(server().baseUrl, `bob${version}`);
    await api('PUT', `${V3}/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice' }, alice);
    await api('PUT', `${V3}/profile/${enc(alice.userId)}/avatar_url`, { avatar_url: AVATAR }, alice);
    const created = await api('POST', `${V3}/createRoom`, { preset: 'public_chat', room_version: version }, alice);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id as string;
  });

  test('a member sets a per-room display name; the global profile is untouched', async () => {
    const res = await putMember(alice, { membership: 'join', displayname: 'Room Alice' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await member(alice), { membership: 'join', displayname: 'Room Alice', avatar_url: AVATAR });
    const joined = await api('GET', `${V3}/rooms/${enc(roomId)}/joined_members`, undefined, alice);
    assert.equal((joined.body.joined as Record<string, { display_name: string }>)[alice.userId]!.display_name, 'Room Alice');
    const profile = await api('GET', `${V3}/profile/${enc(alice.userId)}`, undefined, alice);
    assert.equal(profile.body.displayname, 'Alice');
  });

  test('a per-room avatar, and the same content again sends nothing new', async () => {
    const content = { membership: 'join', displayname: 'Room Alice', avatar_url: 'mxc://localhost/room-avatar' };
    const first = await putMember(alice, content);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await putMember(alice, content);
    assert.equal(again.body.event_id, first.body.event_id);
    assert.deepEqual(await member(alice), content);
  });

  test('the server, not the client, chooses join_authorised_via_users_server', async () => {
    const res = await putMember(alice, { membership: 'join', displayname: 'Room Alice', join_authorised_via_users_server: '@mallory:example.org' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await member(alice)).join_authorised_via_users_server, undefined);
  });

  test('someone not in the room joins with a per-room name', async () => {
    const res = await putMember(bob, { membership: 'join', displayname: 'Bobby' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await member(bob), { membership: 'join', displayname: 'Bobby' });
  });

  test("another member's display name cannot be set: 403 from the auth rules", async () => {
    const res = await putMember(bob, { membership: 'join', displayname: 'Not Bob' }, alice);
    assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
    assert.equal((await member(bob)).displayname, 'Bobby');
  });

  test('leaving through the state API', async () => {
    assert.equal((await putMember(bob, { membership: 'leave' })).status, 200);
    assert.equal((await member(bob)).membership, 'leave');
  });

  test('bad member content: 400 naming the problem', async () => {
    const noMembership = await putMember(alice, { displayname: 'x' });
    assert.deepEqual([noMembership.status, noMembership.body.errcode], [400, 'M_BAD_JSON']);
    const notUser = await api('PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.member/not-a-user`, { membership: 'join' }, alice);
    assert.deepEqual([notUser.status, notUser.body.errcode], [400, 'M_INVALID_PARAM']);
  });
});
