// POST /search over real HTTP on both engines: ranking, ordering, pagination,
// filters, context, a redacted message leaving the results, and rooms the
// searcher left, was kicked or banned from (searched up to the departure).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

interface ContextEvent {
  event_id: string;
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
}

interface RoomEvents {
  count: number;
  results: Array<{ rank: number; result: { event_id: string; content: { body?: string }; room_id: string }; context?: Record<string, unknown> }>;
  highlights: string[];
  next_batch?: string;
  state?: Record<string, ContextEvent[]>;
  groups?: Record<string, Record<string, { results: string[]; order: number }>>;
}

for (const engine of ENGINES) {
  describe(`search (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let roomId: string;
    let otherRoom: string;
    let txn = 0;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) =>
      call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
    const send = async (user: TestUser, room: string, body: string) => {
      const res = await api('PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/t${txn++}`, { msgtype: 'm.text', body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.event_id as string;
    };
    const search = async (user: TestUser, criteria: Record<string, unknown>, nextBatch?: string) => {
      const res = await api('POST', `/search${nextBatch ? `?next_batch=${encodeURIComponent(nextBatch)}` : ''}`, { search_categories: { room_events: criteria } }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.search_categories as { room_events: RoomEvents }).room_events;
    };

    const ids = (res: RoomEvents) => res.results.map((r) => r.result.event_id);
    const roomPath = (room: string, rest: string) => `/rooms/${encodeURIComponent(room)}/${rest}`;
    /** A public room whose history anyone may read, so only the search's own cutoff keeps later events from a leaver. */
    const worldReadableRoom = async (name: string) => {
      const initial_state = [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }];
      const res = await api('POST', '/createRoom', { preset: 'public_chat', name, initial_state }, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.room_id as string;
    };
    const join = async (user: TestUser, room: string) => assert.equal((await api('POST', `/join/${encodeURIComponent(room)}`, {}, user)).status, 200);
    const leave = async (user: TestUser, room: string) => assert.equal((await api('POST', roomPath(room, 'leave'), {}, user)).status, 200);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
      roomId = (await api('POST', '/createRoom', { preset: 'public_chat', name: 'Gardening club', topic: 'tomatoes and more' }, alice)).body.room_id as string;
      otherRoom = (await api('POST', '/createRoom', { preset: 'private_chat' }, alice)).body.room_id as string;
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
    });
    after(async () => hs.close());

    test('finds messages, names and topics in joined rooms, best match first, with highlights', async () => {
      const sparse = await send(alice, roomId, 'I planted tomatoes yesterday and then went for a long walk in the park');
      const dense = await send(bob, roomId, 'Tomatoes! tomatoes everywhere');
      await send(alice, otherRoom, 'tomatoes in a room bob is not in');
      const res = await search(bob, { search_term: 'tomato' });
      const ids = res.results.map((r) => r.result.event_id);
      assert.equal(res.count, 3, 'two messages and the topic');
      assert.ok(ids.includes(sparse) && ids.includes(dense));
      assert.ok(ids.indexOf(dense) < ids.indexOf(sparse), 'the denser match ranks higher');
      assert.ok(res.results.every((r) => r.result.room_id === roomId), 'only rooms bob is joined to');
      assert.deepEqual(res.highlights, ['tomatoes']);

      const names = await search(bob, { search_term: 'gardening', keys: ['content.name'] });
      assert.equal(names.count, 1);
      const none = await search(bob, { search_term: 'tomato', keys: ['content.name'] });
      assert.equal(none.count, 0);
    });

    test('order_by recent paginates with next_batch until the results run out', async () => {
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) sent.push(await send(alice, roomId, `pagination probe number ${i}`));
      const seen: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const page = await search(alice, { search_term: 'probe', order_by: 'recent', filter: { limit: 2 } }, next);
        assert.equal(page.count, 5);
        seen.push(...page.results.map((r) => r.result.event_id));
        next = page.next_batch;
        pages++;
      } while (next && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...sent].reverse());

      const rankPage1 = await search(alice, { search_term: 'probe', filter: { limit: 3 } });
      const rankPage2 = await search(alice, { search_term: 'probe', filter: { limit: 3 } }, rankPage1.next_batch);
      assert.equal(rankPage2.next_batch, undefined);
      assert.deepEqual(new Set([...rankPage1.results, ...rankPage2.results].map((r) => r.result.event_id)), new Set(sent));
      const wrong = await api('POST', `/search?next_batch=${encodeURIComponent(rankPage1.next_batch!)}`, { search_categories: { room_events: { search_term: 'probe', order_by: 'recent' } } }, alice);
      assert.equal(wrong.status, 400);
    });

    test('filters by sender and room, and returns context, profiles, state and groups', async () => {
      const before1 = await send(alice, roomId, 'context before');
      const hit = await send(bob, roomId, 'the unique zebra sighting');
      const after1 = await send(alice, roomId, 'context after');
      const res = await search(alice, {
        search_term: 'zebra',
        filter: { senders: [bob.userId], rooms: [roomId] },
        event_context: { before_limit: 1, after_limit: 1, include_profile: true },
        include_state: true,
        groupings: { group_by: [{ key: 'room_id' }] },
      });
      assert.equal(res.results.length, 1);
      const context = res.results[0]!.context as { events_before: Array<{ event_id: string }>; events_after: Array<{ event_id: string }>; profile_info: Record<string, { displayname?: string }>; start: string; end: string };
      assert.deepEqual(context.events_before.map((e) => e.event_id), [before1]);
      assert.deepEqual(context.events_after.map((e) => e.event_id), [after1]);
      assert.equal(context.profile_info[bob.userId]!.displayname, 'bob');
      assert.ok(context.start && context.end);
      assert.ok(Array.isArray(res.state![roomId]));
      assert.deepEqual(res.groups!.room_id![roomId]!.results, [hit]);
      assert.equal((await search(alice, { search_term: 'zebra', filter: { not_senders: [bob.userId] } })).count, 0);
      assert.equal((await search(alice, { search_term: 'zebra', filter: { not_rooms: [roomId] } })).count, 0);
    });

    test('a redacted message disappears from the results', async () => {
      const eventId = await send(bob, roomId, 'regrettable platypus remark');
      assert.equal((await search(alice, { search_term: 'platypus' })).count, 1);
      const redacted = await api('PUT', `/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(eventId)}/r1`, {}, bob);
      assert.equal(redacted.status, 200);
      const after = await search(alice, { search_term: 'platypus' });
      assert.equal(after.count, 0);
      assert.deepEqual(after.results, []);
    });

    test('a room the user left is searched up to their leave: results, count, pagination, context, profiles, state, groups', async () => {
      const [carol, ivy] = await Promise.all([registerUser(hs.baseUrl, 'carol'), registerUser(hs.baseUrl, 'ivy')]);
      const left = await worldReadableRoom('Orchard');
      await join(carol, left);
      await join(ivy, left);
      const first = await send(alice, left, 'quince jelly recipe');
      const second = await send(carol, left, 'quince paste is better');
      const filler = await send(ivy, left, 'context filler');
      await leave(carol, left);
      // After carol left: a matching message, a new room name, and ivy's member event losing her display name.
      const afterLeave = await send(alice, left, 'quince news carol never saw');
      assert.equal((await api('PUT', roomPath(left, 'state/m.room.name/'), { name: 'Renamed orchard' }, alice)).status, 200);
      await leave(ivy, left);

      const ranked = await search(carol, { search_term: 'quince' });
      assert.deepEqual(new Set(ids(ranked)), new Set([first, second]));
      assert.equal(ranked.count, 2, 'the message after the leave is not counted either');
      assert.ok(!ids(ranked).includes(afterLeave));
      assert.deepEqual(new Set(ids(await search(alice, { search_term: 'quince' }))), new Set([first, second, afterLeave]), 'members still find everything');

      const page1 = await search(carol, { search_term: 'quince', order_by: 'recent', filter: { limit: 1 } });
      assert.deepEqual(ids(page1), [second]);
      assert.equal(page1.count, 2);
      const page2 = await search(carol, { search_term: 'quince', order_by: 'recent', filter: { limit: 1 } }, page1.next_batch);
      assert.deepEqual(ids(page2), [first]);
      assert.equal(page2.next_batch, undefined);

      const detailed = await search(carol, {
        search_term: 'paste',
        filter: { rooms: [left] },
        event_context: { before_limit: 1, after_limit: 10, include_profile: true },
        include_state: true,
        groupings: { group_by: [{ key: 'room_id' }] },
      });
      assert.deepEqual(ids(detailed), [second]);
      const context = detailed.results[0]!.context as { events_before: ContextEvent[]; events_after: ContextEvent[]; profile_info: Record<string, { displayname?: string }> };
      assert.deepEqual(context.events_before.map((e) => e.event_id), [first]);
      assert.equal(context.events_after[0]!.event_id, filler);
      const lastSeen = context.events_after[context.events_after.length - 1]!;
      assert.deepEqual([lastSeen.type, lastSeen.state_key, lastSeen.content.membership], ['m.room.member', carol.userId, 'leave'], 'context ends at the leave');
      assert.equal(context.profile_info[ivy.userId]!.displayname, 'ivy', 'profiles as they were when carol left');
      const state = detailed.state![left]!;
      assert.equal(state.find((e) => e.type === 'm.room.name')!.content.name, 'Orchard', 'the state at the leave');
      assert.equal(state.find((e) => e.type === 'm.room.member' && e.state_key === carol.userId)!.content.membership, 'leave');
      assert.deepEqual(detailed.groups!.room_id![left]!.results, [second]);

      assert.equal((await search(carol, { search_term: 'quince', filter: { not_rooms: [left] } })).count, 0);
      assert.equal((await search(carol, { search_term: 'quince', filter: { rooms: [roomId] } })).count, 0);
    });

    test('a kicked or banned user finds what was said before, nothing after', async () => {
      const [dave, erin] = await Promise.all([registerUser(hs.baseUrl, 'dave'), registerUser(hs.baseUrl, 'erin')]);
      const room = await worldReadableRoom('Medlar appreciation');
      await join(dave, room);
      await join(erin, room);
      const beforeIt = await send(alice, room, 'medlar season has begun');
      assert.equal((await api('POST', roomPath(room, 'kick'), { user_id: dave.userId }, alice)).status, 200);
      assert.equal((await api('POST', roomPath(room, 'ban'), { user_id: erin.userId }, alice)).status, 200);
      await send(alice, room, 'medlar gossip after they went');
      for (const user of [dave, erin]) {
        const res = await search(user, { search_term: 'medlar', keys: ['content.body'] });
        assert.deepEqual(ids(res), [beforeIt], user.userId);
        assert.equal(res.count, 1, user.userId);
      }
    });

    test('history visibility still hides events in a left room from before the user joined', async () => {
      const henry = await registerUser(hs.baseUrl, 'henry');
      const room = (await api('POST', '/createRoom', { preset: 'public_chat', initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }] }, alice)).body.room_id as string;
      await send(alice, room, 'persimmon before henry came');
      await join(henry, room);
      const seen = await send(alice, room, 'persimmon while henry was here');
      await leave(henry, room);
      assert.deepEqual(ids(await search(henry, { search_term: 'persimmon' })), [seen]);
    });

    test('forgotten rooms and rooms the user was never in are not searched', async () => {
      const [frank, grace] = await Promise.all([registerUser(hs.baseUrl, 'frank'), registerUser(hs.baseUrl, 'grace')]);
      const forgotten = await worldReadableRoom('Tasting club');
      const neverJoined = await worldReadableRoom('Elsewhere');
      await join(frank, forgotten);
      const message = await send(alice, forgotten, 'loquat tasting tonight');
      await send(alice, neverJoined, 'loquat in a room frank and grace never joined');
      await leave(frank, forgotten);
      assert.deepEqual(ids(await search(frank, { search_term: 'loquat' })), [message], 'left, not yet forgotten');
      assert.equal((await api('POST', roomPath(forgotten, 'forget'), {}, frank)).status, 200);
      const afterForget = await search(frank, { search_term: 'loquat' });
      assert.equal(afterForget.count, 0);
      assert.deepEqual(afterForget.results, []);
      assert.equal((await search(grace, { search_term: 'loquat' })).count, 0);
    });

    test('bad requests are refused with the spec error codes', async () => {
      assert.equal((await api('POST', '/search', {}, alice)).body.errcode, 'M_MISSING_PARAM');
      assert.equal((await api('POST', '/search', { search_categories: { room_events: {} } }, alice)).body.errcode, 'M_MISSING_PARAM');
      const badKey = await api('POST', '/search', { search_categories: { room_events: { search_term: 'x', keys: ['content.nope'] } } }, alice);
      assert.equal(badKey.status, 400);
      assert.equal(badKey.body.errcode, 'M_INVALID_PARAM');
      assert.equal((await api('POST', '/search', { search_categories: { room_events: { search_term: 'x', order_by: 'oldest' } } }, alice)).status, 400);
      assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/client/v3/search', { search_categories: {} })).status, 401);
    });
  });
}
