// Two real Axon servers answering each other's queries for their users:
// profiles, room aliases, public room lists (and a refusal when a server
// does not share its list), space hierarchies with rooms only the other
// server is in, and OpenID userinfo. Rooms in versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REMOTE_PROFILE_TTL_MS } from '../../src/services/accounts/profiles.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { httpsCall, startFederation, type FederatedServer, type Federation } from '../helpers/federation.js';

type Json = Record<string, unknown>;

describe('queries across two servers', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let alice: TestUser;
  let bob: TestUser;
  /** Added to the servers' clock, to let cached answers expire. */
  let skew = 0;

  const api = <T = Json>(server: FederatedServer, user: TestUser, method: string, path: string, body?: unknown) => call<T>(server.clientUrl, method, path, body, user.accessToken);
  const createRoom = async (body: Json): Promise<string> => {
    const res = await api(hs1, alice, 'POST', '/_matrix/client/v3/createRoom', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body['room_id'] as string;
  };

  before(async () => {
    fed = await startFederation({
      // hs1 lets other servers read its room directory; hs2 keeps Synapse's default (it does not).
      servers: [{ name: 'hs1.test', engine: 'postgres', config: { allowPublicRoomsOverFederation: true } }, { name: 'hs2.test' }],
      clock: () => Date.now() + skew,
    });
    [hs1, hs2] = fed.servers as [FederatedServer, FederatedServer];
    alice = await registerUser(hs1.clientUrl, 'alice');
    bob = await registerUser(hs2.clientUrl, 'bob');
  });
  after(async () => fed.close());

  describe('profiles', () => {
    test("another server's user's profile is asked of that server, and kept for a minute", async () => {
      await api(hs1, alice, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`, { displayname: 'Alice of hs1' });
      await api(hs1, alice, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/avatar_url`, { avatar_url: 'mxc://hs1.test/avatar' });
      const profile = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}`);
      assert.equal(profile.status, 200, JSON.stringify(profile.body));
      assert.deepEqual(profile.body, { displayname: 'Alice of hs1', avatar_url: 'mxc://hs1.test/avatar' });
      const displayname = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`);
      assert.deepEqual(displayname.body, { displayname: 'Alice of hs1' });

      await api(hs1, alice, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`, { displayname: 'Alice renamed' });
      const cached = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`);
      assert.deepEqual(cached.body, { displayname: 'Alice of hs1' }, 'the answer is reused within the minute');
      skew += REMOTE_PROFILE_TTL_MS + 1_000;
      const fresh = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`);
      assert.deepEqual(fresh.body, { displayname: 'Alice renamed' }, 'and asked again after it');
    });

    test('/query/profile with a field answers that field only, and {} for one this server does not keep', async () => {
      const ask = (field: string) => hs2.services.federation.client.request<Json>(hs1.name, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: alice.userId, field } });
      assert.deepEqual(await ask('avatar_url'), { avatar_url: 'mxc://hs1.test/avatar' });
      assert.deepEqual(Object.keys(await ask('displayname')), ['displayname']);
      assert.deepEqual(await ask('m.tz'), {});
    });

    test('an unknown user of the other server is 404, naming that server', async () => {
      const res = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent('@nobody:hs1.test')}`);
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.body['errcode'], 'M_NOT_FOUND');
      assert.match(String(res.body['error']), /@nobody:hs1\.test.*hs1\.test/);
    });

    test('a server that cannot be reached is 502, naming it and why', async () => {
      const res = await api(hs2, bob, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent('@someone:nowhere.invalid')}`);
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.equal(res.body['errcode'], 'M_UNKNOWN');
      assert.match(String(res.body['error']), /nowhere\.invalid/);
    });
  });

  describe('room aliases', () => {
    test("another server's alias resolves through that server", async () => {
      const roomId = await createRoom({ room_version: '12', preset: 'public_chat', room_alias_name: 'hall' });
      const res = await api(hs2, bob, 'GET', `/_matrix/client/v3/directory/room/${encodeURIComponent('#hall:hs1.test')}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body['room_id'], roomId);
      assert.deepEqual(res.body['servers'], ['hs1.test']);
    });

    test('an alias the other server does not have is 404, naming it', async () => {
      const res = await api(hs2, bob, 'GET', `/_matrix/client/v3/directory/room/${encodeURIComponent('#nothing-here:hs1.test')}`);
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.match(String(res.body['error']), /hs1\.test/);
    });
  });

  describe('public room lists', () => {
    let listed: string[];

    before(async () => {
      listed = [
        await createRoom({ room_version: '12', visibility: 'public', name: 'Gardening', topic: 'roses' }),
        await createRoom({ room_version: '10', visibility: 'public', name: 'Cycling' }),
      ];
      // Published, but not for other servers: one that does not federate, one whose ACL shuts hs2 out.
      await createRoom({ room_version: '10', visibility: 'public', name: 'Local only', creation_content: { 'm.federate': false } });
      await createRoom({
        room_version: '12',
        visibility: 'public',
        name: 'No hs2',
        initial_state: [{ type: 'm.room.server_acl', state_key: '', content: { allow: ['*'], deny: ['hs2.test'] } }],
      });
    });

    test("another server's list, with GET and a filtered POST, paginated by its own tokens", async () => {
      const all = await api(hs2, bob, 'GET', '/_matrix/client/v3/publicRooms?server=hs1.test');
      assert.equal(all.status, 200, JSON.stringify(all.body));
      const names = (all.body['chunk'] as Json[]).map((r) => r['name']);
      assert.deepEqual(names.filter((n) => n === 'Gardening' || n === 'Cycling').sort(), ['Cycling', 'Gardening']);
      assert.ok(!names.includes('Local only') && !names.includes('No hs2'), `rooms hs2 may not take part in are not listed to it: ${names.join(', ')}`);
      const local = await api(hs1, alice, 'GET', '/_matrix/client/v3/publicRooms');
      assert.ok((local.body['chunk'] as Json[]).some((r) => r['name'] === 'Local only'), "hs1's own users see all of them");

      const searched = await api(hs2, bob, 'POST', '/_matrix/client/v3/publicRooms?server=hs1.test', { filter: { generic_search_term: 'ROSES' } });
      assert.equal(searched.status, 200, JSON.stringify(searched.body));
      assert.deepEqual((searched.body['chunk'] as Json[]).map((r) => r['room_id']), [listed[0]]);

      const first = await api(hs2, bob, 'GET', '/_matrix/client/v3/publicRooms?server=hs1.test&limit=1');
      assert.equal((first.body['chunk'] as Json[]).length, 1);
      const next = first.body['next_batch'] as string;
      assert.ok(next, 'the remote next_batch is passed on');
      const second = await api(hs2, bob, 'GET', `/_matrix/client/v3/publicRooms?server=hs1.test&limit=1&since=${encodeURIComponent(next)}`);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.notDeepEqual(second.body['chunk'], first.body['chunk']);
    });

    test('a server that does not share its list refuses, and the client is told so', async () => {
      const res = await api(hs1, alice, 'GET', '/_matrix/client/v3/publicRooms?server=hs2.test');
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body['errcode'], 'M_FORBIDDEN');
      assert.match(String(res.body['error']), /hs2\.test.*allow_public_rooms_over_federation/);
      const posted = await api(hs1, alice, 'POST', '/_matrix/client/v3/publicRooms?server=hs2.test', { limit: 5 });
      assert.equal(posted.status, 403);
    });
  });

  describe('space hierarchies', () => {
    const ids: Record<string, string> = {};
    const names = (res: { body: Json }) => (res.body['rooms'] as Json[]).map((r) => r['name']);
    const addChild = async (parent: string, child: string, content: Json) => {
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(ids[parent]!)}/state/m.space.child/${encodeURIComponent(ids[child]!)}`;
      const res = await api(hs1, alice, 'PUT', path, { via: ['hs1.test'], ...content });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const hierarchy = (roomId: string, query: Record<string, string> = {}) =>
      api(hs2, bob, 'GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/hierarchy?${new URLSearchParams(query)}`);

    before(async () => {
      // Everything lives on hs1; hs2 is in the top space only (bob joins it).
      ids.space = await createRoom({ room_version: '12', preset: 'public_chat', name: 'space', room_alias_name: 'space', creation_content: { type: 'm.space' } });
      ids.a = await createRoom({ room_version: '10', preset: 'public_chat', name: 'a' });
      ids.sub = await createRoom({ room_version: '12', preset: 'public_chat', name: 'sub', creation_content: { type: 'm.space' } });
      ids.a2 = await createRoom({ room_version: '10', preset: 'public_chat', name: 'a2' });
      ids.p2 = await createRoom({ room_version: '12', preset: 'private_chat', name: 'p2' });
      ids.private = await createRoom({ room_version: '12', preset: 'private_chat', name: 'private' });
      ids.members = await createRoom({
        room_version: '10',
        preset: 'private_chat',
        name: 'members',
        initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: ids.space }] } }],
      });
      await addChild('space', 'a', { order: 'a', suggested: true });
      await addChild('space', 'sub', { order: 'b', suggested: true });
      await addChild('space', 'private', { order: 'c' });
      await addChild('space', 'members', { order: 'd' });
      await addChild('sub', 'a2', { order: 'a', suggested: true });
      await addChild('sub', 'p2', { order: 'b' });
      const joined = await api(hs2, bob, 'POST', `/_matrix/client/v3/join/${encodeURIComponent('#space:hs1.test')}`, {});
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
    });

    test('rooms only the other server is in are described by it; what the user may not see is left out', async () => {
      const res = await hierarchy(ids.space!);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // private: invite-only, hs1 does not describe it to hs2; p2: named inaccessible by hs1;
      // members: restricted to the space, which bob is in.
      assert.deepEqual(names(res), ['space', 'a', 'sub', 'a2', 'members']);
      const rooms = res.body['rooms'] as Json[];
      const sub = rooms.find((r) => r['name'] === 'sub')!;
      assert.equal(sub['room_type'], 'm.space');
      assert.equal(sub['room_version'], '12');
      assert.deepEqual((sub['children_state'] as Json[]).map((e) => e['state_key']), [ids.a2, ids.p2], "the remote space's m.space.child events, in order");
      const members = rooms.find((r) => r['name'] === 'members')!;
      assert.deepEqual([members['join_rule'], members['allowed_room_ids']], ['restricted', [ids.space]]);
      assert.equal(rooms.find((r) => r['name'] === 'a2')!['num_joined_members'], 1);
    });

    test('suggested_only and max_depth reach the other server too', async () => {
      assert.deepEqual(names(await hierarchy(ids.space!, { suggested_only: 'true' })), ['space', 'a', 'sub', 'a2']);
      assert.deepEqual(names(await hierarchy(ids.space!, { max_depth: '1' })), ['space', 'a', 'sub', 'members']);
      const page = await hierarchy(ids.space!, { limit: '3' });
      assert.deepEqual(names(page), ['space', 'a', 'sub']);
      assert.deepEqual(names(await hierarchy(ids.space!, { limit: '3', from: page.body['next_batch'] as string })), ['a2', 'members']);
    });

    test('the federation endpoint: one space, its children, and those the asking server may not see', async () => {
      const answer = await hs2.services.federation.client.request<Json>(hs1.name, 'GET', `/_matrix/federation/v1/hierarchy/${encodeURIComponent(ids.sub!)}`);
      assert.equal((answer['room'] as Json)['room_id'], ids.sub);
      assert.deepEqual(((answer['room'] as Json)['children_state'] as Json[]).map((e) => e['state_key']), [ids.a2, ids.p2]);
      assert.deepEqual((answer['children'] as Json[]).map((c) => c['room_id']), [ids.a2]);
      assert.deepEqual(answer['inaccessible_children'], [ids.p2]);
      const suggested = await hs2.services.federation.client.request<Json>(hs1.name, 'GET', `/_matrix/federation/v1/hierarchy/${encodeURIComponent(ids.sub!)}`, {
        query: { suggested_only: 'true' },
      });
      assert.deepEqual([(suggested['children'] as Json[]).length, suggested['inaccessible_children']], [1, []]);
      await assert.rejects(
        hs2.services.federation.client.request(hs1.name, 'GET', `/_matrix/federation/v1/hierarchy/${encodeURIComponent(ids.private!)}`),
        (err: { status?: number; errcode?: string }) => err.status === 404 && err.errcode === 'M_NOT_FOUND',
      );
    });
  });

  test("OpenID: a token hs2 issued is vouched for by hs2's federation listener, and by no other server", async () => {
    const issued = await api(hs2, bob, 'POST', `/_matrix/client/v3/user/${encodeURIComponent(bob.userId)}/openid/request_token`, {});
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body['matrix_server_name'], 'hs2.test');
    const token = encodeURIComponent(issued.body['access_token'] as string);
    // What an integration manager does: find matrix_server_name's federation address, then ask it.
    const { targets } = await hs1.services.federation.resolver.resolve(issued.body['matrix_server_name'] as string);
    const where = `https://${targets[0]!.host}:${targets[0]!.port}`;
    const info = await httpsCall(where, 'GET', `/_matrix/federation/v1/openid/userinfo?access_token=${token}`, { ca: fed.ca!.certPem });
    assert.deepEqual([info.status, info.body], [200, { sub: bob.userId }]);
    const elsewhere = await httpsCall(hs1.baseUrl, 'GET', `/_matrix/federation/v1/openid/userinfo?access_token=${token}`, { ca: fed.ca!.certPem });
    assert.deepEqual([elsewhere.status, elsewhere.body['errcode']], [401, 'M_UNKNOWN_TOKEN']);
  });
});
