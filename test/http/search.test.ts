// POST /search over real HTTP on both engines: ranking, ordering, pagination,
// filters, context, and a redacted message leaving the results.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

interface RoomEvents {
  count: number;
  results: Array<{ rank: number; result: { event_id: string; content: { body?: string }; room_id: string }; context?: Record<string, unknown> }>;
  highlights: string[];
  next_batch?: string;
  state?: Record<string, unknown[]>;
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
