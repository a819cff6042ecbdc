// Simplified sliding sync (MSC4186) over real HTTP: lists sorted by recency
// with ranges, required_state and timelines, room subscriptions, incremental
// positions, extensions, and a long-poll woken by a new message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PATH = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

describe('sliding sync', () => {
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

  before(async () => {
    hs = await startTestHomeserver();
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
});
