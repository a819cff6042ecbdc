// Ignored users (client-server-api/modules/ignore_users.md) on every read
// path, over real HTTP on both engines and in room versions 10 and 12: once
// a user is on m.ignored_user_list, their non-state events in a room the
// reader is already in are served nowhere — /sync, sliding sync, /messages,
// /context, /event, /relations, /threads, /search, /notifications — while
// their state events still are; their invites are not sent either.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { readPathClient, type Json } from './visibility-helpers.js';

for (const engine of ENGINES) {
  describe(`ignored users on every read path (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let dave: TestUser;
    const c = () => readPathClient(hs.baseUrl);
    const room = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;
    const senders = (events: Json[]) => events.filter((e) => e.type !== 'm.room.member').map((e) => `${e.sender === dave.userId ? 'dave' : 'alice'} ${e.type}`);
    const ignore = (users: TestUser[]) =>
      c().ok('PUT', `/user/${encodeURIComponent(bob.userId)}/account_data/m.ignored_user_list`, { ignored_users: Object.fromEntries(users.map((u) => [u.userId, {}])) }, bob);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, dave] = await Promise.all(['alice', 'bob', 'dave'].map((name) => registerUser(hs.baseUrl, name)));
    });
    after(async () => hs.close());

    for (const version of ['10', '12']) {
      test(`a room already joined hides the ignored user's messages everywhere, not their state (v${version})`, async () => {
        await ignore([]);
        // Anyone may set the topic: dave's state events are what must stay visible.
        const roomId = await c().createRoom(alice, { room_version: version, power_level_content_override: { events: { 'm.room.topic': 0 } } });
        await c().ok('POST', `${room(roomId)}/join`, {}, bob);
        await c().ok('POST', `${room(roomId)}/join`, {}, dave);
        const fromDave = await c().send(dave, roomId, { msgtype: 'm.text', body: `kiwi for ${bob.userId}`, 'm.mentions': { user_ids: [bob.userId] } });
        const fromAlice = await c().send(alice, roomId, { msgtype: 'm.text', body: 'plain words' });
        await c().send(dave, roomId, { 'm.relates_to': { rel_type: 'm.annotation', event_id: fromAlice, key: '👍' } }, 'm.reaction');
        await c().send(alice, roomId, { msgtype: 'm.text', body: 'on the thread', 'm.relates_to': { rel_type: 'm.thread', event_id: fromDave } });
        const aliceReply = await c().send(alice, roomId, { msgtype: 'm.text', body: 'a reply', 'm.relates_to': { rel_type: 'm.thread', event_id: fromAlice } });
        await c().send(dave, roomId, { msgtype: 'm.text', body: 'the latest reply', 'm.relates_to': { rel_type: 'm.thread', event_id: fromAlice } });
        const notified = await c().ok('GET', '/notifications', undefined, bob);
        assert.ok((notified.notifications as Json[]).some((n) => n.event.event_id === fromDave), 'the mention notified bob before he ignored dave');
        const beforeIgnoring = await c().sync(bob);
        const before = beforeIgnoring.next_batch as string;
        const unread = () => c().sync(bob).then((body) => body.rooms.join[roomId].unread_notifications.notification_count as number);
        assert.ok((await unread()) > 0);

        await ignore([dave]);
        const unreadBefore = await unread();
        await c().ok('PUT', `${room(roomId)}/state/m.room.topic/`, { topic: 'set by dave' }, dave);
        await c().send(dave, roomId, { msgtype: 'm.text', body: `kiwi again, ${bob.userId}`, 'm.mentions': { user_ids: [bob.userId] } });
        assert.equal(await unread(), unreadBefore, 'an ignored user’s mention neither counts nor notifies');

        const wanted = ['alice m.room.message', 'alice m.room.message', 'alice m.room.message', 'dave m.room.topic'];
        const page = await c().ok('GET', `${room(roomId)}/messages?dir=f&limit=100`, undefined, bob);
        assert.deepEqual(senders(page.chunk).filter((s) => s.startsWith('dave') || s.endsWith('message')), wanted, '/messages');
        const incremental = await c().sync(bob, { since: before });
        assert.deepEqual(senders(incremental.rooms.join[roomId].timeline.events), ['dave m.room.topic'], 'incremental /sync');
        const initial = await c().sync(bob, { filter: JSON.stringify({ room: { timeline: { limit: 100 } } }) });
        assert.deepEqual(senders(initial.rooms.join[roomId].timeline.events).filter((s) => s.startsWith('dave') || s.endsWith('message')), wanted, 'initial /sync');
        const sliding = await c().slidingSync(bob, { room_subscriptions: { [roomId]: { required_state: [], timeline_limit: 100 } } });
        assert.deepEqual(senders(sliding.rooms[roomId].timeline).filter((s) => s.startsWith('dave') || s.endsWith('message')), wanted, 'sliding sync');

        const context = await c().ok('GET', `${room(roomId)}/context/${encodeURIComponent(fromAlice)}?limit=20`, undefined, bob);
        assert.ok(![...context.events_before, ...context.events_after].some((e: Json) => e.sender === dave.userId && e.state_key === undefined), '/context around: only dave’s state events');
        assert.equal((await c().call('GET', `${room(roomId)}/context/${encodeURIComponent(fromDave)}`, undefined, bob)).status, 403, '/context of it');
        assert.equal((await c().call('GET', `${room(roomId)}/event/${encodeURIComponent(fromDave)}`, undefined, bob)).status, 404, '/event');
        const relations = await c().ok('GET', `${room(roomId)}/relations/${encodeURIComponent(fromAlice)}`, undefined, bob, 'v1');
        assert.deepEqual((relations.chunk as Json[]).map((e) => e.event_id), [aliceReply], '/relations');
        const threads = await c().ok('GET', `${room(roomId)}/threads`, undefined, bob, 'v1');
        assert.deepEqual((threads.chunk as Json[]).map((e) => e.event_id), [fromAlice], '/threads: dave’s root is left out');
        // Bundled aggregations neither count nor show the ignored user's reply.
        const bundled = (page.chunk as Json[]).find((e) => e.event_id === fromAlice)!.unsigned['m.relations']['m.thread'];
        assert.equal(bundled.count, 1);
        assert.equal(bundled.latest_event.event_id, aliceReply);
        const search = await c().ok('POST', '/search', { search_categories: { room_events: { search_term: 'kiwi', filter: { rooms: [roomId] } } } }, bob);
        assert.deepEqual(search.search_categories.room_events.results, [], '/search');
        const notifications = await c().ok('GET', '/notifications', undefined, bob);
        assert.ok(!(notifications.notifications as Json[]).some((n) => n.event.sender === dave.userId), '/notifications');

        // Only the ignored user spoke since the last sync: the room has nothing to say.
        const quiet = (await c().sync(bob)).next_batch as string;
        await c().send(dave, roomId, { msgtype: 'm.text', body: 'still ignored' });
        await c().send(alice, roomId, { msgtype: 'm.text', body: 'wake up' });
        const after = await c().sync(bob, { since: quiet, timeout: '0' });
        assert.deepEqual(senders(after.rooms.join[roomId].timeline.events), ['alice m.room.message']);
        const afterDave = (await c().sync(bob)).next_batch as string;
        await c().send(dave, roomId, { msgtype: 'm.text', body: 'only dave' });
        const silent = await c().sync(bob, { since: afterDave, timeout: '0' });
        assert.equal(silent.rooms?.join?.[roomId], undefined, 'a room where only the ignored user spoke is left out');
      });


      test(`sliding sync leaves out invites from ignored users (v${version})`, async () => {
        await ignore([dave]);
        const roomId = await c().createRoom(dave, { preset: 'private_chat', room_version: version, invite: [bob.userId] });
        const other = await c().createRoom(alice, { preset: 'private_chat', room_version: version, invite: [bob.userId] });
        const body = await c().slidingSync(bob, { lists: { invites: { ranges: [[0, 99]], timeline_limit: 1, filters: { is_invite: true } } } });
        assert.ok(body.rooms[other], 'an invite from someone else arrives');
        assert.equal(body.rooms[roomId], undefined);
        assert.equal(body.lists.invites.count, Object.keys(body.rooms).length);
      });
    }
  });
}
