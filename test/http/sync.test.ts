// /sync over real HTTP: initial and incremental syncs, long-polling that
// wakes on news and waits otherwise, invites, joins, leaves, limited
// timelines, lazy-loaded members, ephemeral events, account data, filters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`sync (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let txn = 0;
    const api = (method: string, path: string, body: unknown, user: TestUser) =>
      call<Json>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);
    const sync = async (user: TestUser, query: Record<string, string> = {}) => {
      const res = await api('GET', `/sync?${new URLSearchParams(query)}`, undefined, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const room = (id: string) => `/rooms/${encodeURIComponent(id)}`;
    const send = async (user: TestUser, roomId: string, body: string) => {
      const res = await api('PUT', `${room(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.event_id as string;
    };
    const createRoom = async (user: TestUser, body: Json = {}) => {
      const res = await api('POST', '/createRoom', { preset: 'public_chat', ...body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.room_id as string;
    };

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    });
    after(async () => hs.close());

    test('the summary names heroes only for rooms without a name or canonical alias', async () => {
      const unnamed = await createRoom(alice);
      const aliased = await createRoom(alice, { room_alias_name: `summary-${engine}` });
      for (const roomId of [unnamed, aliased]) assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const body = await sync(alice);
      assert.deepEqual(body.rooms.join[unnamed].summary, { 'm.heroes': [bob.userId], 'm.joined_member_count': 2, 'm.invited_member_count': 0 });
      assert.deepEqual(body.rooms.join[aliased].summary, { 'm.joined_member_count': 2, 'm.invited_member_count': 0 });
    });

    test('initial sync shows a joined room with its state and timeline; incremental syncs show only news', async () => {
      const roomId = await createRoom(alice, { name: 'Lounge' });
      await send(alice, roomId, 'hello');
      const first = await sync(alice);
      assert.match(first.next_batch, /^s\d+/);
      const joined = first.rooms.join[roomId];
      assert.ok(joined, 'the room is in rooms.join');
      const timelineTypes = joined.timeline.events.map((e: Json) => e.type);
      assert.equal(timelineTypes.at(-1), 'm.room.message');
      assert.equal(joined.timeline.events.at(-1).content.body, 'hello');
      assert.equal(joined.timeline.events.at(-1).room_id, undefined, 'sync events carry no room_id');
      const all = [...joined.state.events, ...joined.timeline.events].map((e: Json) => e.type);
      for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.name', 'm.room.member']) assert.ok(all.includes(type), type);
      const stateIds = new Set(joined.state.events.map((e: Json) => e.event_id));
      assert.ok(joined.timeline.events.every((e: Json) => !stateIds.has(e.event_id)), 'state excludes timeline events');
      // A named room: clients show its name, so the summary has no heroes (as Synapse).
      assert.deepEqual(joined.summary, { 'm.joined_member_count': 1, 'm.invited_member_count': 0 });
      assert.deepEqual(joined.unread_notifications, { notification_count: 0, highlight_count: 0 });
      assert.equal(typeof joined.timeline.prev_batch, 'string');
      assert.deepEqual(first.to_device, { events: [] });
      assert.deepEqual(first.device_lists, {}, 'empty device lists are left out, as Synapse does');

      const quiet = await sync(alice, { since: first.next_batch });
      assert.deepEqual(quiet.rooms.join, {}, 'nothing new: no rooms');

      await send(alice, roomId, 'again');
      const next = await sync(alice, { since: quiet.next_batch });
      const events = next.rooms.join[roomId].timeline.events;
      assert.deepEqual(events.map((e: Json) => e.content.body), ['again']);
      assert.equal(next.rooms.join[roomId].timeline.limited, false);
      assert.deepEqual(next.rooms.join[roomId].state.events, []);
    });

    for (const version of ['10', '12']) {
      test(`a member event that only changes the name is news, not a new join: the room is not sent whole (v${version})`, async () => {
        const roomId = await createRoom(alice, { room_version: version });
        const first = await sync(alice, { timeout: '0' });
        const renamed = await api('PUT', `${room(roomId)}/state/m.room.member/${encodeURIComponent(alice.userId)}`, { membership: 'join', displayname: 'Alice in this room' }, alice);
        assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
        const said = await send(alice, roomId, 'after the rename');
        const next = await sync(alice, { since: first.next_batch, timeout: '0' });
        const joined = next.rooms.join[roomId];
        assert.deepEqual((joined.timeline.events as Json[]).map((e) => e.event_id), [renamed.body.event_id, said]);
        assert.equal(joined.timeline.limited, false);
        assert.deepEqual(joined.state.events, [], 'no state resent');
      });
    }

    for (const version of ['10', '12']) {
      test(`a room the client held and the user left comes in leave with its new events only, no state resent (v${version})`, async () => {
        const roomId = await createRoom(alice, { room_version: version });
        assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
        const first = await sync(bob, { timeout: '0' });
        assert.ok(first.rooms.join[roomId]);
        assert.equal((await api('POST', `${room(roomId)}/leave`, {}, bob)).status, 200);
        const filter = JSON.stringify({ room: { include_leave: true } });
        const next = await sync(bob, { since: first.next_batch, timeout: '0', filter });
        const left = next.rooms.leave[roomId];
        assert.deepEqual((left.timeline.events as Json[]).map((e) => [e.type, e.state_key, e.content.membership]), [['m.room.member', bob.userId, 'leave']]);
        assert.deepEqual(left.state.events, [], 'the client has the state already');
      });
    }

    test('a long-poll wakes within moments of another user\'s message, and not before', async () => {
      const roomId = await createRoom(alice);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const { next_batch } = await sync(bob);
      const started = Date.now();
      const polled = sync(bob, { since: next_batch, timeout: '10000' });
      await new Promise((r) => setTimeout(r, 150));
      const sentAt = Date.now();
      await send(alice, roomId, 'wake up');
      const woke = await polled;
      const answeredAt = Date.now();
      assert.ok(answeredAt - started >= 150, 'did not answer before the message');
      assert.ok(answeredAt - sentAt < 1000, `answered ${answeredAt - sentAt} ms after the message`);
      assert.deepEqual(woke.rooms.join[roomId].timeline.events.map((e: Json) => e.content.body), ['wake up']);
    });

    test('a long-poll with nothing to say waits out its timeout and returns no rooms', async () => {
      const { next_batch } = await sync(bob);
      const started = Date.now();
      const res = await sync(bob, { since: next_batch, timeout: '300' });
      assert.ok(Date.now() - started >= 250, `returned after ${Date.now() - started} ms`);
      assert.deepEqual(res.rooms.join, {});
      assert.deepEqual(res.rooms.invite, {});
    });

    test('a client that disconnects releases its waiter', async () => {
      const { next_batch } = await sync(bob);
      const before = hs.server.services.notifier.waiterCount;
      const controller = new AbortController();
      const pending = fetch(`${hs.baseUrl}/_matrix/client/v3/sync?since=${next_batch}&timeout=30000`, {
        headers: { Authorization: `Bearer ${bob.accessToken}` },
        signal: controller.signal,
      }).catch(() => undefined);
      for (let i = 0; i < 50 && hs.server.services.notifier.waiterCount === before; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(hs.server.services.notifier.waiterCount, before + 1);
      controller.abort();
      await pending;
      for (let i = 0; i < 50 && hs.server.services.notifier.waiterCount !== before; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(hs.server.services.notifier.waiterCount, before);
    });

    test('invites arrive with stripped state; a join moves the room to join with full state; a leave to leave', async () => {
      const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Secret' });
      const { next_batch: start } = await sync(bob);
      const polled = sync(bob, { since: start, timeout: '5000' });
      assert.equal((await api('POST', `${room(roomId)}/invite`, { user_id: bob.userId }, alice)).status, 200);
      const invited = await polled;
      const stripped = invited.rooms.invite[roomId].invite_state.events;
      const byType = (type: string, key = '') => stripped.find((e: Json) => e.type === type && e.state_key === key);
      assert.equal(byType('m.room.name').content.name, 'Secret');
      assert.ok(byType('m.room.create'));
      assert.ok(byType('m.room.join_rules'));
      assert.equal(byType('m.room.member', bob.userId).content.membership, 'invite');
      assert.equal(byType('m.room.member', alice.userId).content.membership, 'join', "the inviter's member event");
      assert.equal(invited.rooms.join[roomId], undefined);

      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const joined = await sync(bob, { since: invited.next_batch });
      assert.equal(joined.rooms.invite[roomId], undefined);
      const room1 = joined.rooms.join[roomId];
      const types = [...room1.state.events, ...room1.timeline.events].map((e: Json) => e.type);
      for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name']) assert.ok(types.includes(type), type);
      assert.equal(room1.summary['m.joined_member_count'], 2);
      assert.equal(room1.summary['m.heroes'], undefined, 'the room is named');

      assert.equal((await api('POST', `${room(roomId)}/leave`, {}, bob)).status, 200);
      await send(alice, roomId, 'after bob left');
      const left = await sync(bob, { since: joined.next_batch });
      assert.equal(left.rooms.join[roomId], undefined);
      const leave = left.rooms.leave[roomId];
      const last = leave.timeline.events.at(-1);
      assert.equal(last.type, 'm.room.member');
      assert.equal(last.content.membership, 'leave');
      assert.ok(!leave.timeline.events.some((e: Json) => e.content.body === 'after bob left'), 'nothing after the leave');

      const initial = await sync(bob);
      assert.equal(initial.rooms.leave[roomId], undefined, 'initial sync leaves out left rooms by default');
      const withLeave = await sync(bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
      assert.ok(withLeave.rooms.leave[roomId], 'include_leave brings them back');
      assert.equal((await api('POST', `${room(roomId)}/forget`, {}, bob)).status, 200);
      const forgotten = await sync(bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
      assert.equal(forgotten.rooms.leave[roomId], undefined, 'forgotten rooms are gone');
    });

    test('a timeline longer than the limit is limited, with a prev_batch and the state gap', async () => {
      const roomId = await createRoom(alice);
      const { next_batch } = await sync(alice);
      await api('PUT', `${room(roomId)}/state/m.room.topic`, { topic: 'changed in the gap' }, alice);
      for (let i = 0; i < 5; i++) await send(alice, roomId, `m${i}`);
      const filter = JSON.stringify({ room: { timeline: { limit: 3 } } });
      const res = await sync(alice, { since: next_batch, filter });
      const r = res.rooms.join[roomId];
      assert.equal(r.timeline.limited, true);
      assert.deepEqual(r.timeline.events.map((e: Json) => e.content.body), ['m2', 'm3', 'm4']);
      assert.equal(typeof r.timeline.prev_batch, 'string');
      assert.notEqual(r.timeline.prev_batch, res.next_batch);
      assert.deepEqual(r.state.events.map((e: Json) => e.content.topic), ['changed in the gap']);
      const older = await api('GET', `${room(roomId)}/messages?dir=b&limit=2&from=${encodeURIComponent(r.timeline.prev_batch)}`, undefined, alice);
      assert.equal(older.status, 200, JSON.stringify(older.body));
      assert.deepEqual(older.body.chunk.map((e: Json) => e.content.body), ['m1', 'm0'], 'prev_batch pages back from just before the timeline');
      const initial = await sync(alice, { filter });
      assert.equal(initial.rooms.join[roomId].timeline.limited, true);
      assert.equal(initial.rooms.join[roomId].timeline.events.length, 3);
    });

    test('lazy-loading members sends only the timeline senders\' member events', async () => {
      const roomId = await createRoom(alice);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      for (let i = 0; i < 4; i++) await send(bob, roomId, `b${i}`);
      const filter = JSON.stringify({ room: { timeline: { limit: 2 }, state: { lazy_load_members: true } } });
      const res = await sync(alice, { filter });
      const r = res.rooms.join[roomId];
      const members = r.state.events.filter((e: Json) => e.type === 'm.room.member').map((e: Json) => e.state_key).sort();
      assert.deepEqual(members, [alice.userId, bob.userId].sort());
      await send(alice, roomId, 'only me');
      const noLazy = await sync(alice, { filter: JSON.stringify({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } } }) });
      const onlyMine = noLazy.rooms.join[roomId].state.events.filter((e: Json) => e.type === 'm.room.member').map((e: Json) => e.state_key);
      assert.deepEqual(onlyMine, [alice.userId], 'bob sent nothing in the timeline');
      const full = await sync(alice, { filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
      assert.equal(full.rooms.join[roomId].state.events.filter((e: Json) => e.type === 'm.room.member').length, 2);
    });

    test('typing and receipts arrive in ephemeral; account data globally and per room', async () => {
      const roomId = await createRoom(alice);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const eventId = await send(alice, roomId, 'read me');
      const { next_batch } = await sync(alice);
      const polled = sync(alice, { since: next_batch, timeout: '5000' });
      assert.equal((await api('PUT', `${room(roomId)}/typing/${encodeURIComponent(bob.userId)}`, { typing: true, timeout: 30000 }, bob)).status, 200);
      const typing = await polled;
      assert.deepEqual(typing.rooms.join[roomId].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [bob.userId] } }]);

      assert.equal((await api('POST', `${room(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`, {}, bob)).status, 200);
      const receipt = await sync(alice, { since: typing.next_batch, timeout: '5000' });
      const ephemeral = receipt.rooms.join[roomId].ephemeral.events;
      const r = ephemeral.find((e: Json) => e.type === 'm.receipt');
      assert.ok(r.content[eventId]['m.read'][bob.userId].ts > 0);

      assert.equal((await api('PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/org.example.cfg`, { a: 1 }, alice)).status, 200);
      assert.equal((await api('PUT', `/user/${encodeURIComponent(alice.userId)}/rooms/${encodeURIComponent(roomId)}/tags/u.work`, { order: 0.5 }, alice)).status, 200);
      const data = await sync(alice, { since: receipt.next_batch, timeout: '5000' });
      assert.deepEqual(data.account_data.events.find((e: Json) => e.type === 'org.example.cfg'), { type: 'org.example.cfg', content: { a: 1 } });
      assert.deepEqual(data.rooms.join[roomId].account_data.events, [{ type: 'm.tag', content: { tags: { 'u.work': { order: 0.5 } } } }]);

      const initial = await sync(alice);
      assert.ok(initial.account_data.events.some((e: Json) => e.type === 'org.example.cfg'));
      assert.ok(initial.rooms.join[roomId].account_data.events.some((e: Json) => e.type === 'm.tag'));
      assert.ok(initial.rooms.join[roomId].ephemeral.events.some((e: Json) => e.type === 'm.typing'));
      assert.ok(initial.rooms.join[roomId].ephemeral.events.some((e: Json) => e.type === 'm.receipt'));
    });

    test('filters by ID and inline; transaction_id only for the sending device', async () => {
      const roomId = await createRoom(alice);
      await send(alice, roomId, 'mine');
      const created = await api('POST', `/user/${encodeURIComponent(alice.userId)}/filter`, { room: { timeline: { limit: 1, not_types: ['m.room.member'] } } }, alice);
      assert.equal(created.status, 200);
      const byId = await sync(alice, { filter: created.body.filter_id });
      assert.deepEqual(byId.rooms.join[roomId].timeline.events.map((e: Json) => e.type), ['m.room.message']);
      assert.equal(byId.rooms.join[roomId].timeline.events[0].unsigned.transaction_id, `t${txn}`);
      const inline = await sync(alice, { filter: JSON.stringify({ room: { rooms: [roomId], timeline: { types: ['m.room.create'] } } }) });
      assert.deepEqual(Object.keys(inline.rooms.join), [roomId]);

      const otherDevice = await call<Json>(hs.baseUrl, 'POST', '/_matrix/client/v3/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'alice' },
        password: 'correct horse battery',
      });
      assert.equal(otherDevice.status, 200);
      const elsewhere = await sync({ ...alice, accessToken: otherDevice.body.access_token, deviceId: otherDevice.body.device_id }, { filter: created.body.filter_id });
      assert.equal(elsewhere.rooms.join[roomId].timeline.events[0].unsigned.transaction_id, undefined);
    });

    test('ignored users: their messages and invites are hidden', async () => {
      const roomId = await createRoom(bob);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, alice)).status, 200);
      await send(bob, roomId, 'ignore me');
      await api('PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/m.ignored_user_list`, { ignored_users: { [bob.userId]: {} } }, alice);
      const res = await sync(alice);
      assert.ok(!res.rooms.join[roomId].timeline.events.some((e: Json) => e.content.body === 'ignore me'));
      const privateRoom = await createRoom(bob, { preset: 'private_chat' });
      await api('POST', `${room(privateRoom)}/invite`, { user_id: alice.userId }, bob);
      assert.equal((await sync(alice)).rooms.invite[privateRoom], undefined);
      await api('PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/m.ignored_user_list`, { ignored_users: {} }, alice);
    });

    test('an invalid since token is refused with M_INVALID_PARAM', async () => {
      const res = await api('GET', '/sync?since=garbage', undefined, alice);
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, 'M_INVALID_PARAM');
    });
  });
}
