// GET /rooms/{roomId}/hierarchy over real HTTP on both engines: depth-first
// order with the spec's child ordering, which rooms a user may see, valid
// m.space.child events only, suggested_only, max_depth and pagination.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`space hierarchy (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    const ids: Record<string, string> = {};
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, path, body, user.accessToken);
    const create = async (name: string, body: Json) => {
      const res = await api('POST', '/_matrix/client/v3/createRoom', { name, ...body }, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      ids[name] = res.body.room_id as string;
    };
    const addChild = async (parent: string, child: string, content: Json) => {
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(ids[parent]!)}/state/m.space.child/${encodeURIComponent(ids[child] ?? child)}`;
      const res = await api('PUT', path, content, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const hierarchy = (user: TestUser, root: string, query: Record<string, string> = {}) =>
      api('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(ids[root]!)}/hierarchy?${new URLSearchParams(query)}`, undefined, user);
    const names = (res: { body: Json }) => (res.body.rooms as Json[]).map((r) => r.name);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => registerUser(hs.baseUrl, u)));
      await create('space', { preset: 'public_chat', creation_content: { type: 'm.space' } });
      await create('sub', { preset: 'public_chat', creation_content: { type: 'm.space' } });
      await create('a', { preset: 'public_chat', topic: 'room a' });
      await create('c', { preset: 'public_chat' });
      await create('secret', { preset: 'private_chat' });
      await create('members', {
        preset: 'private_chat',
        room_version: '10',
        initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: ids.space }] } }],
      });
      await create('private', { preset: 'private_chat', creation_content: { type: 'm.space' } });
      // Orders: 'a' before 'b'; unordered children after, by time of their m.space.child event.
      await addChild('space', 'a', { via: ['localhost'], order: 'b', suggested: true });
      await addChild('space', 'sub', { via: ['localhost'], order: 'a' });
      await addChild('space', 'secret', { via: ['localhost'], suggested: true });
      await addChild('space', 'members', { via: ['localhost'] });
      await addChild('space', '!unknown:elsewhere', { via: ['elsewhere'] });
      await addChild('space', 'c', { via: [] }); // invalid: not a child
      await addChild('sub', 'c', { via: ['localhost'] });
      assert.equal((await api('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(ids.space!)}/join`, {}, bob)).status, 200);
    });
    after(async () => hs.close());

    test('depth first, children in the spec order, only rooms the user may see', async () => {
      const res = await hierarchy(bob, 'space');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // secret is invite-only; members is restricted to the space's members (bob is one); the unknown room is skipped.
      assert.deepEqual(names(res), ['space', 'sub', 'c', 'a', 'members']);
      const space = res.body.rooms[0];
      assert.equal(space.room_type, 'm.space');
      assert.equal(space.num_joined_members, 2);
      assert.equal(space.join_rule, 'public');
      assert.deepEqual(
        space.children_state.map((e: Json) => e.state_key),
        [ids.sub, ids.a, ids.secret, ids.members, '!unknown:elsewhere'],
        'valid m.space.child events, ordered; the one with an empty via is left out',
      );
      assert.ok(space.children_state.every((e: Json) => e.type === 'm.space.child' && typeof e.origin_server_ts === 'number' && e.sender === alice.userId));
      assert.equal(res.body.rooms.find((r: Json) => r.name === 'a').topic, 'room a');
      assert.deepEqual(res.body.rooms.find((r: Json) => r.name === 'c').children_state, []);
      assert.equal(res.body.next_batch, undefined);
    });

    test('carol, not in the space, does not get the restricted room', async () => {
      const res = await hierarchy(carol, 'space');
      assert.deepEqual(names(res), ['space', 'sub', 'c', 'a']);
    });

    test('suggested_only and max_depth', async () => {
      assert.deepEqual(names(await hierarchy(bob, 'space', { suggested_only: 'true' })), ['space', 'a']);
      assert.deepEqual(names(await hierarchy(bob, 'space', { max_depth: '0' })), ['space']);
      assert.deepEqual(names(await hierarchy(bob, 'space', { max_depth: '1' })), ['space', 'sub', 'a', 'members']);
    });

    test('pages with next_batch, whose parameters cannot change', async () => {
      const first = await hierarchy(bob, 'space', { limit: '2' });
      assert.deepEqual(names(first), ['space', 'sub']);
      const second = await hierarchy(bob, 'space', { limit: '2', from: first.body.next_batch });
      assert.deepEqual(names(second), ['c', 'a']);
      const last = await hierarchy(bob, 'space', { limit: '2', from: second.body.next_batch });
      assert.deepEqual(names(last), ['members']);
      assert.equal(last.body.next_batch, undefined);
      const changed = await hierarchy(bob, 'space', { limit: '2', from: first.body.next_batch, max_depth: '1' });
      assert.equal(changed.status, 400);
      assert.equal(changed.body.errcode, 'M_INVALID_PARAM');
      assert.equal((await hierarchy(bob, 'space', { from: 'nonsense' })).body.errcode, 'M_INVALID_PARAM');
      assert.equal((await hierarchy(bob, 'space', { limit: '0' })).status, 400);
    });

    test('a room the user may not see is M_FORBIDDEN', async () => {
      const res = await hierarchy(carol, 'private');
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, 'M_FORBIDDEN');
      const unknown = await api('GET', `/_matrix/client/v1/rooms/${encodeURIComponent('!nope:localhost')}/hierarchy`, undefined, carol);
      assert.equal(unknown.status, 403);
    });
  });
}
