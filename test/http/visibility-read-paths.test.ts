// History visibility on every read path, over real HTTP on both engines and
// in room versions 10 and 12 (modules/history_visibility.md): a user who is
// invited and then joins a room is served, on initial and incremental /sync,
// sliding sync, /messages, /context, /relations, /threads, /search and the
// legacy room initialSync, exactly the events the room's history_visibility
// allowed at each event — and the history_visibility changes that bound them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { readPathClient, type Json } from './visibility-helpers.js';

const VERSIONS = ['10', '12'] as const;
const VISIBILITIES = ['world_readable', 'shared', 'invited', 'joined'] as const;
type Visibility = (typeof VISIBILITIES)[number];

/** Which of the scenario's three messages the joiner may see. */
const EXPECTED: Record<Visibility, string[]> = {
  world_readable: ['before invite', 'after invite', 'after join'],
  shared: ['before invite', 'after invite', 'after join'],
  invited: ['after invite', 'after join'],
  joined: ['after join'],
};

interface Scenario {
  version: string;
  visibility: Visibility;
  roomId: string;
  /** Event IDs of the three messages by label. */
  ids: Record<string, string>;
  threadReply: string;
}

for (const engine of ENGINES) {
  describe(`history visibility on every read path (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    let since: string;
    const scenarios: Scenario[] = [];
    const c = () => readPathClient(hs.baseUrl);
    /** The scenario messages among `events`, by label, in order. */
    const labels = (events: Json[]) => events.filter((e) => e.type === 'm.room.message' && typeof e.content?.label === 'string').map((e) => e.content.label as string);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(hs.baseUrl, name)));
      since = (await c().sync(bob)).next_batch;
      for (const version of VERSIONS) {
        for (const visibility of VISIBILITIES) {
          const roomId = await c().createRoom(alice, { room_version: version, initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: visibility } }] });
          const ids: Record<string, string> = {};
          const say = async (label: string) => (ids[label] = await c().send(alice, roomId, { msgtype: 'm.text', body: `zebra ${label}`, label }));
          await say('before invite');
          const threadReply = await c().send(alice, roomId, { msgtype: 'm.text', body: 'a reply in the thread', 'm.relates_to': { rel_type: 'm.thread', event_id: ids['before invite']! } });
          await c().ok('POST', `/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bob.userId }, alice);
          await say('after invite');
          await c().ok('POST', `/rooms/${encodeURIComponent(roomId)}/join`, {}, bob);
          await say('after join');
          scenarios.push({ version, visibility, roomId, ids, threadReply });
        }
      }
    });
    after(async () => hs.close());

    const each = (fn: (s: Scenario) => Promise<void>) => async () => {
      for (const s of scenarios) await fn(s);
    };
    const label = (s: Scenario) => `${s.visibility} in v${s.version}`;

    test(
      'initial /sync',
      each(async (s) => {
        const body = await c().sync(bob, { filter: JSON.stringify({ room: { timeline: { limit: 50 } } }) });
        assert.deepEqual(labels(body.rooms.join[s.roomId].timeline.events), EXPECTED[s.visibility], label(s));
      }),
    );

    test(
      'incremental /sync right after the join',
      each(async (s) => {
        const body = await c().sync(bob, { since, filter: JSON.stringify({ room: { timeline: { limit: 50 } } }) });
        const room = body.rooms.join[s.roomId];
        assert.deepEqual(labels(room.timeline.events), EXPECTED[s.visibility], label(s));
        assert.equal(room.timeline.limited, true, 'a newly joined room is limited');
      }),
    );

    test(
      'sliding sync',
      each(async (s) => {
        const body = await c().slidingSync(bob, { room_subscriptions: { [s.roomId]: { required_state: [], timeline_limit: 50 } } });
        assert.deepEqual(labels(body.rooms[s.roomId].timeline), EXPECTED[s.visibility], label(s));
      }),
    );

    test(
      '/messages and the legacy room initialSync',
      each(async (s) => {
        const page = await c().ok('GET', `/rooms/${encodeURIComponent(s.roomId)}/messages?dir=f&limit=50`, undefined, bob);
        assert.deepEqual(labels(page.chunk), EXPECTED[s.visibility], label(s));
        const initial = await c().ok('GET', `/rooms/${encodeURIComponent(s.roomId)}/initialSync?limit=50`, undefined, bob);
        assert.deepEqual(labels(initial.messages.chunk), EXPECTED[s.visibility], label(s));
      }),
    );

    test(
      '/context: hidden events are neither around a visible one nor reachable themselves (403)',
      each(async (s) => {
        const around = await c().ok('GET', `/rooms/${encodeURIComponent(s.roomId)}/context/${encodeURIComponent(s.ids['after join']!)}?limit=40`, undefined, bob);
        assert.deepEqual(labels([...around.events_before].reverse()), EXPECTED[s.visibility].slice(0, -1), label(s));
        const hidden = await c().call('GET', `/rooms/${encodeURIComponent(s.roomId)}/context/${encodeURIComponent(s.ids['before invite']!)}`, undefined, bob);
        assert.equal(hidden.status, EXPECTED[s.visibility].includes('before invite') ? 200 : 403, label(s));
        const outsider = await c().call('GET', `/rooms/${encodeURIComponent(s.roomId)}/context/${encodeURIComponent(s.ids['after join']!)}`, undefined, carol);
        assert.equal(outsider.status, s.visibility === 'world_readable' ? 200 : 403, `never a member: ${label(s)}`);
        const unknown = await c().call('GET', `/rooms/${encodeURIComponent(s.roomId)}/context/${encodeURIComponent('$nosuchevent')}`, undefined, bob);
        assert.equal(unknown.status, 404);
      }),
    );

    test(
      '/relations and /threads',
      each(async (s) => {
        const visible = EXPECTED[s.visibility].includes('before invite');
        const relations = await c().call('GET', `/rooms/${encodeURIComponent(s.roomId)}/relations/${encodeURIComponent(s.ids['before invite']!)}`, undefined, bob, 'v1');
        assert.equal(relations.status, visible ? 200 : 404, label(s));
        if (visible) assert.deepEqual((relations.body.chunk as Json[]).map((e) => e.event_id), [s.threadReply]);
        const threads = await c().ok('GET', `/rooms/${encodeURIComponent(s.roomId)}/threads`, undefined, bob, 'v1');
        assert.deepEqual((threads.chunk as Json[]).map((e) => e.event_id), visible ? [s.ids['before invite']] : [], label(s));
        const outsider = await c().call('GET', `/rooms/${encodeURIComponent(s.roomId)}/threads`, undefined, carol, 'v1');
        assert.equal(outsider.status, s.visibility === 'world_readable' ? 200 : 403, `never a member: ${label(s)}`);
      }),
    );

    test('/search finds only what the searcher may see', async () => {
      const found = await c().ok('POST', '/search', { search_categories: { room_events: { search_term: 'zebra', filter: { limit: 100 } } } }, bob);
      const results = (found.search_categories.room_events.results as Json[]).map((r) => r.result);
      for (const s of scenarios) {
        assert.deepEqual(labels(results.filter((e) => e.room_id === s.roomId).reverse()), EXPECTED[s.visibility], label(s));
      }
    });

    for (const version of VERSIONS) {
      test(`history_visibility changes on the boundaries of what a joiner sees are visible to them (v${version})`, async () => {
        const roomId = await c().createRoom(alice, { room_version: version });
        const say = (label: string) => c().send(alice, roomId, { msgtype: 'm.text', body: label, label });
        const setVisibility = (value: string) => c().ok('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility/`, { history_visibility: value }, alice);
        await say('1 shared');
        await setVisibility('joined');
        await say('2 joined');
        await setVisibility('invited');
        await say('3 invited');
        await setVisibility('shared');
        await say('4 shared');
        await c().ok('POST', `/rooms/${encodeURIComponent(roomId)}/join`, {}, carol);
        // shared → joined is visible (the joiner joined later), joined → invited is not
        // (carol was never invited), invited → shared is (after it, shared allows).
        const expected = ['1 shared', 'hv joined', 'hv shared', '4 shared', `join ${carol.userId}`];
        const summarise = (events: Json[]) => {
          const all = events
            .filter((e) => e.type === 'm.room.history_visibility' || (e.type === 'm.room.message' && e.content.label) || (e.type === 'm.room.member' && e.state_key === carol.userId))
            .map((e) => (e.type === 'm.room.message' ? e.content.label : e.type === 'm.room.member' ? `join ${e.state_key}` : `hv ${e.content.history_visibility}`));
          return all.slice(all.indexOf('1 shared')); // from the first message on (createRoom set `shared` before it)
        };
        const sync = await c().sync(carol, { filter: JSON.stringify({ room: { timeline: { limit: 50 } } }) });
        assert.deepEqual(summarise(sync.rooms.join[roomId].timeline.events), expected);
        const page = await c().ok('GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=f&limit=50`, undefined, carol);
        assert.deepEqual(summarise(page.chunk), expected);
      });
    }
  });
}
