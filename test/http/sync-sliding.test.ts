// Simplified sliding sync (MSC4186) over real HTTP on both engines: lists
// sorted by recency with ranges, filters (is_invite, room_types, spaces,
// tags), required_state and timelines, room subscriptions, incremental
// positions (a widened required_state, rooms coming back into a range,
// accepted invites), extensions, and a long-poll woken by a new message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PATH = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

for (const engine of ENGINES) {
  describe(`sliding sync (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let txn = 0;
    const rooms: string[] = [];
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, path, body, user.accessToken);
    const slide = async (user: TestUser, body: Json, query: Record<string, string> = {}) => {
      const res = await api('POST', `${PATH}?${new URLSearchParams(query)}`, body, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const send = async (user: TestUser, roomId: string, body: string) => {
      const res = await api('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/s${++txn}`, { msgtype: 'm.text', body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const list = (ranges: number[][], extra: Json = {}) => ({
      lists: { all: { ranges, required_state: [['m.room.name', ''], ['m.room.member', '$LAZY'], ['m.room.create', '*']], timeline_limit: 2, ...extra } },
    });
    const room = (id: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(id)}`;
    const createRoom = async (user: TestUser, body: Json = {}) => {
      const res = await api('POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', ...body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.room_id as string;
    };
    const putState = async (user: TestUser, roomId: string, type: string, stateKey: string, content: Json) => {
      const res = await api('PUT', `${room(roomId)}/state/${type}/${encodeURIComponent(stateKey)}`, content, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const invite = async (from: TestUser, roomId: string, to: TestUser) => {
      const res = await api('POST', `${room(roomId)}/invite`, { user_id: to.userId }, from);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const join = async (user: TestUser, roomId: string) => {
      const res = await api('POST', `${room(roomId)}/join`, {}, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const tag = async (user: TestUser, roomId: string, name: string) => {
      const path = `/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/rooms/${encodeURIComponent(roomId)}/tags/${encodeURIComponent(name)}`;
      const res = await api('PUT', path, {}, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    /** The rooms one filtered list holds (all of them: the range covers every room of these users). */
    const filtered = async (user: TestUser, filters: Json) => {
      const res = await slide(user, { lists: { l: { ranges: [[0, 99]], timeline_limit: 1, filters } } });
      assert.equal(res.lists.l.count, Object.keys(res.rooms).length);
      return Object.keys(res.rooms).sort();
    };
    const sorted = (...ids: string[]) => [...ids].sort();
    const stateKeys = (roomData: Json) => (roomData.required_state as Json[]).map((e) => `${e.type}|${e.state_key}`).sort();

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
      for (const name of ['first', 'second', 'third']) {
        const res = await api('POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', name }, alice);
        rooms.push(res.body.room_id as string);
      }
      // Recency order becomes: second, first, third.
      await send(alice, rooms[0]!, 'one');
      await send(alice, rooms[1]!, 'two');
    });
    after(async () => hs.close());

    test('/versions advertises simplified sliding sync', async () => {
      const res = await call<Json>(hs.baseUrl, 'GET', '/_matrix/client/versions');
      assert.equal(res.body.unstable_features['org.matrix.simplified_msc3575'], true);
    });

    test('a list range returns the most recent rooms with required_state and timeline', async () => {
      const res = await slide(alice, list([[0, 1]]));
      assert.equal(typeof res.pos, 'string');
      assert.deepEqual(res.lists.all, { count: 3 });
      assert.deepEqual(Object.keys(res.rooms).sort(), [rooms[0], rooms[1]].sort());
      const second = res.rooms[rooms[1]!];
      assert.equal(second.initial, true);
      assert.equal(second.name, 'second');
      assert.equal(second.timeline.at(-1).content.body, 'two');
      assert.equal(second.timeline.length, 2);
      assert.equal(second.limited, true);
      const types = second.required_state.map((e: Json) => `${e.type}|${e.state_key}`).sort();
      assert.deepEqual(types, ['m.room.create|', `m.room.member|${alice.userId}`, 'm.room.name|']);
      assert.equal(second.joined_count, 1);
      assert.ok(second.bump_stamp > res.rooms[rooms[0]!].bump_stamp, 'bump_stamp orders by latest message');
    });

    test('room_subscriptions bring in a room outside the ranges', async () => {
      const res = await slide(alice, { ...list([[0, 0]]), room_subscriptions: { [rooms[2]!]: { required_state: [['m.room.name', '']], timeline_limit: 1 } } });
      assert.deepEqual(Object.keys(res.rooms).sort(), [rooms[1], rooms[2]].sort());
      assert.deepEqual(res.rooms[rooms[2]!].required_state.map((e: Json) => e.content.name), ['third']);
      assert.equal(res.rooms[rooms[2]!].timeline.length, 1);
    });

    test('timeline_limit 0 sends state without timeline events', async () => {
      const res = await slide(alice, { lists: { l: { ranges: [[0, 0]], timeline_limit: 0, required_state: [['m.room.name', '']] } } });
      const only = res.rooms[rooms[2]!] ?? res.rooms[Object.keys(res.rooms)[0]!];
      assert.deepEqual(only.timeline ?? [], []);
      assert.equal(only.required_state.length, 1);
    });

    test('with pos, only changed rooms come back; a long-poll wakes on a new message', async () => {
      const first = await slide(alice, { ...list([[0, 2]]), conn_id: 'poll' });
      assert.equal(Object.keys(first.rooms).length, 3);
      const started = Date.now();
      const polled = slide(alice, { ...list([[0, 2]]), conn_id: 'poll' }, { pos: first.pos, timeout: '10000' });
      await new Promise((r) => setTimeout(r, 100));
      const sentAt = Date.now();
      await send(alice, rooms[2]!, 'three');
      const next = await polled;
      assert.ok(Date.now() - started >= 100, 'did not answer before the message');
      assert.ok(Date.now() - sentAt < 1000, `answered ${Date.now() - sentAt} ms after the message`);
      assert.deepEqual(Object.keys(next.rooms), [rooms[2]]);
      const room = next.rooms[rooms[2]!];
      assert.equal(room.initial, undefined);
      assert.deepEqual(room.timeline.map((e: Json) => e.content.body), ['three']);
      assert.equal(room.num_live, 1);

      const quietStart = Date.now();
      const quiet = await slide(alice, { ...list([[0, 2]]), conn_id: 'poll' }, { pos: next.pos, timeout: '300' });
      assert.ok(Date.now() - quietStart >= 250);
      assert.deepEqual(quiet.rooms, {});
    });

    test('an unknown pos is M_UNKNOWN_POS', async () => {
      const res = await api('POST', `${PATH}?pos=999999`, list([[0, 0]]), alice);
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, 'M_UNKNOWN_POS');
    });

    test('invites show with invite_state; is_invite filters; extensions are well-formed', async () => {
      const privateRoom = (await api('POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat', name: 'hush' }, alice)).body.room_id as string;
      await api('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privateRoom)}/invite`, { user_id: bob.userId }, alice);
      const res = await slide(bob, {
        lists: { invites: { ranges: [[0, 10]], timeline_limit: 1, filters: { is_invite: true } } },
        extensions: { to_device: { enabled: true }, e2ee: { enabled: true }, account_data: { enabled: true }, typing: { enabled: true }, receipts: { enabled: true } },
      });
      assert.deepEqual(res.lists.invites, { count: 1 });
      const stripped = res.rooms[privateRoom].invite_state;
      assert.ok(stripped.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'hush'));
      assert.ok(stripped.some((e: Json) => e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'invite'));
      assert.deepEqual(res.extensions.to_device.events, []);
      assert.deepEqual(res.extensions.e2ee.device_lists, { changed: [], left: [] });
      assert.ok(Array.isArray(res.extensions.account_data.global));
      assert.deepEqual(res.extensions.typing, { rooms: {} });
    });

    test('room_types and not_room_types filter by the create event type; null is no type; invites count', async () => {
      const [carol, dave] = await Promise.all([registerUser(hs.baseUrl, 'carol'), registerUser(hs.baseUrl, 'dave')]);
      const space = await createRoom(carol, { creation_content: { type: 'm.space' } });
      const plain = await createRoom(carol);
      const custom = await createRoom(carol, { creation_content: { type: 'org.example.custom' } });
      const invitedSpace = await createRoom(dave, { preset: 'private_chat', creation_content: { type: 'm.space' } });
      await invite(dave, invitedSpace, carol);

      assert.deepEqual(await filtered(carol, { room_types: ['m.space'] }), sorted(space, invitedSpace));
      assert.deepEqual(await filtered(carol, { room_types: [null] }), [plain]);
      assert.deepEqual(await filtered(carol, { room_types: [null, 'org.example.custom'] }), sorted(plain, custom));
      assert.deepEqual(await filtered(carol, { not_room_types: ['m.space'] }), sorted(plain, custom));
      assert.deepEqual(await filtered(carol, { not_room_types: [null] }), sorted(space, custom, invitedSpace));
      // A type in both lists is excluded.
      assert.deepEqual(await filtered(carol, { room_types: ['m.space', null], not_room_types: ['m.space'] }), [plain]);
      assert.deepEqual(await filtered(carol, { room_types: ['m.space'], is_invite: false }), [space]);
    });

    test('spaces keeps the m.space.child rooms (with a valid via) of joined spaces only', async () => {
      const [sam, tom] = await Promise.all([registerUser(hs.baseUrl, 'sam'), registerUser(hs.baseUrl, 'tom')]);
      const server = sam.userId.slice(sam.userId.indexOf(':') + 1);
      const space = await createRoom(sam, { creation_content: { type: 'm.space' } });
      const child = await createRoom(sam);
      const noVia = await createRoom(sam);
      const badVia = await createRoom(sam);
      await createRoom(sam); // in no space
      const grandchild = await createRoom(sam);
      const subspace = await createRoom(sam, { creation_content: { type: 'm.space' } });
      await putState(sam, space, 'm.space.child', child, { via: [server] });
      await putState(sam, space, 'm.space.child', subspace, { via: [server] });
      await putState(sam, space, 'm.space.child', noVia, { via: [] });
      await putState(sam, space, 'm.space.child', badVia, { via: [server, 7] });
      await putState(sam, subspace, 'm.space.child', grandchild, { via: [server] });
      // A space sam is only invited to is ignored, even though it lists one of sam's rooms.
      const foreign = await createRoom(tom, { preset: 'private_chat', creation_content: { type: 'm.space' } });
      const foreignChild = await createRoom(sam);
      await putState(tom, foreign, 'm.space.child', foreignChild, { via: [server] });
      await invite(tom, foreign, sam);

      // Direct children only: the subspace is listed, its own children are not.
      assert.deepEqual(await filtered(sam, { spaces: [space, foreign] }), sorted(child, subspace));
      assert.deepEqual(await filtered(sam, { spaces: [foreign] }), []);
      assert.deepEqual(await filtered(sam, { spaces: [space, subspace] }), sorted(child, subspace, grandchild));
      assert.deepEqual(await filtered(sam, { spaces: [space], room_types: [null] }), [child]);
      // Emptying the child's content removes it from the space (spaces.md).
      await putState(sam, space, 'm.space.child', child, {});
      assert.deepEqual(await filtered(sam, { spaces: [space] }), [subspace]);
    });

    test('tags and not_tags filter by m.tag room account data; not_tags wins', async () => {
      const tina = await registerUser(hs.baseUrl, 'tina');
      const [fav, work, both, none] = [await createRoom(tina), await createRoom(tina), await createRoom(tina), await createRoom(tina)];
      await tag(tina, fav, 'm.favourite');
      await tag(tina, work, 'u.work');
      await tag(tina, both, 'u.work');
      await tag(tina, both, 'm.lowpriority');

      assert.deepEqual(await filtered(tina, { tags: ['m.favourite', 'u.work'] }), sorted(fav, work, both));
      assert.deepEqual(await filtered(tina, { not_tags: ['m.lowpriority'] }), sorted(fav, work, none));
      assert.deepEqual(await filtered(tina, { tags: ['u.work'], not_tags: ['m.lowpriority'] }), [work]);
      assert.deepEqual(await filtered(tina, { tags: [] }), []);
    });

    test('malformed filters are M_BAD_JSON', async () => {
      for (const filters of [{ room_types: ['m.space', 5] }, { not_room_types: 'm.space' }, { spaces: [1] }, { tags: {} }, { not_tags: [null] }]) {
        const res = await api('POST', PATH, { lists: { l: { ranges: [[0, 0]], filters } } }, alice);
        assert.equal(res.status, 400, JSON.stringify(filters));
        assert.equal(res.body.errcode, 'M_BAD_JSON', JSON.stringify(res.body));
        assert.match(res.body.error, /lists\.l\.filters\./);
      }
    });

    test('a widened required_state sends the newly required state of a room that did not change', async () => {
      const [uma, vic] = await Promise.all([registerUser(hs.baseUrl, 'uma'), registerUser(hs.baseUrl, 'vic')]);
      const roomId = await createRoom(uma, { name: 'expand', topic: 'the topic' });
      await join(vic, roomId);
      const body = (requiredState: string[][]) => ({ conn_id: 'expand', lists: { l: { ranges: [[0, 0]], timeline_limit: 1, required_state: requiredState } } });
      const name = [['m.room.name', '']];
      const nameAndTopic = [...name, ['m.room.topic', '']];

      const first = await slide(uma, body(name));
      assert.deepEqual(stateKeys(first.rooms[roomId]), ['m.room.name|']);

      // Nothing happens in the room, yet the long-poll answers at once with the topic.
      const started = Date.now();
      const second = await slide(uma, body(nameAndTopic), { pos: first.pos, timeout: '10000' });
      assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
      assert.deepEqual(Object.keys(second.rooms), [roomId]);
      const widened = second.rooms[roomId];
      assert.equal(widened.initial, undefined);
      assert.deepEqual(widened.timeline, []);
      assert.deepEqual(widened.required_state.map((e: Json) => [e.type, e.content.topic]), [['m.room.topic', 'the topic']]);

      // The same config again has nothing new; neither has a narrower one.
      const third = await slide(uma, body(nameAndTopic), { pos: second.pos, timeout: '300' });
      assert.deepEqual(third.rooms, {});
      const fourth = await slide(uma, body(name), { pos: third.pos, timeout: '300' });
      assert.deepEqual(fourth.rooms, {});

      // $ME names the user's own member event.
      const withMe = [...name, ['m.room.member', '$ME']];
      const fifth = await slide(uma, body(withMe), { pos: fourth.pos, timeout: '10000' });
      assert.deepEqual(stateKeys(fifth.rooms[roomId]), [`m.room.member|${uma.userId}`]);

      // $LAZY adds the members of the timeline's senders, though their membership did not change.
      await send(vic, roomId, 'hello');
      const sixth = await slide(uma, body([...withMe, ['m.room.member', '$LAZY']]), { pos: fifth.pos });
      assert.deepEqual(sixth.rooms[roomId].timeline.map((e: Json) => e.content.body), ['hello']);
      assert.deepEqual(stateKeys(sixth.rooms[roomId]), [`m.room.member|${vic.userId}`]);

      // A wildcard widens to everything not required before.
      const seventh = await slide(uma, body([['*', '*']]), { pos: sixth.pos, timeout: '10000' });
      const all = stateKeys(seventh.rooms[roomId]);
      for (const key of ['m.room.create|', 'm.room.topic|', 'm.room.power_levels|', 'm.room.join_rules|']) assert.ok(all.includes(key), `${key} in ${all}`);
      assert.ok(!all.includes('m.room.name|'), 'the name was already sent');
    });

    test('a room back in a range brings what changed while it was out of it', async () => {
      const walt = await registerUser(hs.baseUrl, 'walt');
      const a = await createRoom(walt, { name: 'a' });
      const b = await createRoom(walt, { name: 'b' });
      await send(walt, a, 'a1');
      const body = { conn_id: 'window', lists: { l: { ranges: [[0, 0]], timeline_limit: 5, required_state: [['m.room.topic', '']] } } };
      const first = await slide(walt, body);
      assert.deepEqual(Object.keys(first.rooms), [a]);
      await send(walt, b, 'b1');
      const second = await slide(walt, body, { pos: first.pos });
      assert.deepEqual(Object.keys(second.rooms), [b]);
      // A topic does not bump the room, so `a` stays out of the window.
      await putState(walt, a, 'm.room.topic', '', { topic: 'while away' });
      const third = await slide(walt, body, { pos: second.pos, timeout: '300' });
      assert.deepEqual(third.rooms, {});
      await send(walt, a, 'a2');
      const fourth = await slide(walt, body, { pos: third.pos });
      const back = fourth.rooms[a];
      assert.deepEqual(back.timeline.map((e: Json) => e.type), ['m.room.topic', 'm.room.message']);
      assert.deepEqual(back.required_state.map((e: Json) => e.content.topic), ['while away']);
      assert.equal(back.num_live, 1, 'only a2 happened since the last response');
    });

    test('an invite accepted on a connection comes back as an initial room', async () => {
      const [xena, yuri] = await Promise.all([registerUser(hs.baseUrl, 'xena'), registerUser(hs.baseUrl, 'yuri')]);
      const roomId = await createRoom(yuri, { preset: 'private_chat', name: 'invite me' });
      await invite(yuri, roomId, xena);
      const body = { conn_id: 'accept', lists: { l: { ranges: [[0, 5]], timeline_limit: 5, required_state: [['m.room.name', '']] } } };
      const first = await slide(xena, body);
      assert.ok(first.rooms[roomId].invite_state);
      await join(xena, roomId);
      const second = await slide(xena, body, { pos: first.pos });
      const joined = second.rooms[roomId];
      assert.equal(joined.initial, true);
      assert.equal(joined.invite_state, undefined);
      assert.deepEqual(joined.required_state.map((e: Json) => e.content.name), ['invite me']);
    });

    test('a room the user left shows its state as they left it', async () => {
      const roomId = await createRoom(alice, { name: 'before' });
      await join(bob, roomId);
      const first = await slide(bob, { conn_id: 'leaver', lists: { l: { ranges: [[0, 0]], timeline_limit: 1 } } });
      const left = await api('POST', `${room(roomId)}/leave`, {}, bob);
      assert.equal(left.status, 200);
      await putState(alice, roomId, 'm.room.name', '', { name: 'after' });
      const res = await slide(
        bob,
        { conn_id: 'leaver', lists: { l: { ranges: [[0, 0]], timeline_limit: 1 } }, room_subscriptions: { [roomId]: { required_state: [['m.room.name', '']], timeline_limit: 1 } } },
        { pos: first.pos },
      );
      assert.deepEqual(res.rooms[roomId].required_state.map((e: Json) => e.content.name), ['before']);
      assert.equal(res.rooms[roomId].name, 'before');
    });
  });
}
