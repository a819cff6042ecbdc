// /sync with use_state_after (sync.yaml; MSC4222, whose unstable name
// matrix-js-sdk sends on every sync): each room carries `state_after`, the
// state up to the end of its timeline — the timeline's own state events
// included, since the client then takes state from it alone — and no
// `state`. Initial, incremental (with and without a gap), left rooms, lazy
// loading, the unstable name; both engines, room versions 12 and 10.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SMALL = JSON.stringify({ room: { timeline: { limit: 3 } } });
const LAZY = JSON.stringify({ room: { timeline: { limit: 3 }, state: { lazy_load_members: true } } });

describeEngineAndRoomVersions('/sync with use_state_after', (server, version) => {
  let alice: TestUser, bob: TestUser, carol: TestUser;
  let n = 0;
  const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(server().baseUrl, method, `${V3}${path}`, body, user.accessToken);
  const sync = async (user: TestUser, query: Record<string, string>) => {
    const res = await api('GET', `/sync?${new URLSearchParams({ timeout: '0', ...query })}`, undefined, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const say = async (user: TestUser, roomId: string, count: number) => {
    for (let i = 0; i < count; i++) {
      assert.equal((await api('PUT', `/rooms/${enc(roomId)}/send/m.room.message/sa${++n}`, { msgtype: 'm.text', body: `m${n}` }, user)).status, 200);
    }
  };
  const setTopic = async (roomId: string, topic: string) => {
    const res = await api('PUT', `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic }, alice);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id as string;
  };
  const room = async () => {
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version, name: 'Before' }, alice)).body.room_id as string;
    assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, bob)).status, 200);
    return roomId;
  };
  const ids = (events: Json[]) => events.map((e) => e.event_id as string);

  before(async () => {
    const hs = server().baseUrl;
    [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(hs, `${name}-sa-v${version}`)));
  });

  test('an initial sync carries the whole state at the end of the timeline, its state events included, and no state', async () => {
    const roomId = await room();
    const topicId = await setTopic(roomId, 'in the timeline');
    const body = await sync(bob, { filter: SMALL, use_state_after: 'true' });
    const joined = body.rooms.join[roomId];
    assert.equal(joined.state, undefined);
    assert.ok(ids(joined.timeline.events).includes(topicId), 'the topic change is in the timeline');
    const after = joined.state_after.events as Json[];
    assert.ok(ids(after).includes(topicId), 'and in state_after too');
    for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name', 'm.room.topic']) {
      assert.equal(after.filter((e) => e.type === type).length, 1, type);
    }
    assert.deepEqual(after.filter((e) => e.type === 'm.room.member').map((e) => e.state_key).sort(), [alice.userId, bob.userId].sort());
  });

  test('an incremental sync carries the state changes up to the end of the timeline, with and without a gap', async () => {
    const roomId = await room();
    const first = await sync(bob, { filter: SMALL, use_state_after: 'true' });

    const topicId = await setTopic(roomId, 'no gap');
    const plain = await sync(bob, { filter: SMALL, since: first.next_batch });
    assert.deepEqual(plain.rooms.join[roomId].state.events, [], 'without the parameter: state before the timeline, nothing');
    assert.equal(plain.rooms.join[roomId].state_after, undefined);
    const quiet = await sync(bob, { filter: SMALL, since: first.next_batch, use_state_after: 'true' });
    assert.equal(quiet.rooms.join[roomId].timeline.limited, false);
    assert.deepEqual(ids(quiet.rooms.join[roomId].state_after.events), [topicId]);

    const gapTopic = await setTopic(roomId, 'in the gap');
    const name = await api('PUT', `/rooms/${enc(roomId)}/state/m.room.name/`, { name: 'After' }, alice);
    await say(alice, roomId, 4);
    const gapped = await sync(bob, { filter: SMALL, since: quiet.next_batch, use_state_after: 'true' });
    const joined = gapped.rooms.join[roomId];
    assert.equal(joined.timeline.limited, true);
    assert.equal(joined.state, undefined);
    assert.deepEqual(ids(joined.state_after.events).sort(), [gapTopic, name.body.event_id].sort());
  });

  test('MSC4222’s unstable parameter gets the unstable key', async () => {
    const roomId = await room();
    const body = await sync(bob, { filter: SMALL, 'org.matrix.msc4222.use_state_after': 'true' });
    const joined = body.rooms.join[roomId];
    assert.equal(joined.state, undefined);
    assert.equal(joined.state_after, undefined);
    assert.ok((joined['org.matrix.msc4222.state_after'].events as Json[]).some((e) => e.type === 'm.room.create'));
  });

  test('a room left since the token carries the state up to the departure, the leave included', async () => {
    const roomId = await room();
    const first = await sync(bob, { filter: SMALL, use_state_after: 'true' });
    const topicId = await setTopic(roomId, 'before leaving');
    const left = await api('POST', `/rooms/${enc(roomId)}/leave`, {}, bob);
    assert.equal(left.status, 200);
    await setTopic(roomId, 'after leaving');
    const body = await sync(bob, { filter: SMALL, since: first.next_batch, use_state_after: 'true' });
    const gone = body.rooms.leave[roomId];
    assert.equal(gone.state, undefined);
    const after = gone.state_after.events as Json[];
    assert.ok(ids(after).includes(topicId));
    assert.deepEqual(after.filter((e) => e.type === 'm.room.member').map((e) => [e.state_key, e.content.membership]), [[bob.userId, 'leave']]);
    assert.ok(!after.some((e) => e.type === 'm.room.topic' && e.content.topic === 'after leaving'), 'nothing after the departure');
  });

  test('lazy loading keeps the senders’ members and the members the timeline carries', async () => {
    const roomId = await room();
    assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, carol)).status, 200);
    await say(alice, roomId, 2);
    const body = await sync(bob, { filter: LAZY, use_state_after: 'true' });
    const after = body.rooms.join[roomId].state_after.events as Json[];
    const members = after.filter((e) => e.type === 'm.room.member').map((e) => e.state_key).sort();
    // The timeline (limit 3): carol's join and alice's two messages.
    assert.deepEqual(members, [alice.userId, bob.userId, carol.userId].sort());
  });
});
