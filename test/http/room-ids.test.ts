// Every room-scoped endpoint, and every request body that names rooms, run
// against a room of version 12 (room ID `!<hash>`, no server part) and one of
// version 10 (`!opaque:server`): a room ID of either form must be accepted
// wherever a room ID is (appendices.md "Room IDs"; issue 8: tags, room
// account data and read markers refused v12 IDs).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoomId } from '../../src/core/identifiers.js';
import { call, registerUser, type Reply, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

const V1 = '/_matrix/client/v1';
const SLIDING_SYNC = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

interface Room {
  baseUrl: string;
  roomId: string;
  /** A message alice sent. */
  eventId: string;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
}

interface Case {
  name: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: (room: Room) => string;
  body?: (room: Room) => unknown;
  /** Who calls; alice (the room's creator) unless set. */
  as?: (room: Room) => TestUser;
  /** Checks beyond the 200 (that the room ID was understood, not just accepted). */
  check?: (reply: Reply<Record<string, unknown>>, room: Room) => void | Promise<void>;
}

let txn = 0;
const r = (room: Room) => `${V3}/rooms/${enc(room.roomId)}`;
const userRoom = (room: Room) => `${V3}/user/${enc(room.alice.userId)}/rooms/${enc(room.roomId)}`;
const roomsFilter = (room: Room) => enc(JSON.stringify({ rooms: [room.roomId] }));

// In order: later cases rely on earlier ones (the tag is read back, carol is invited before she is kicked).
const CASES: Case[] = [
  { name: 'GET state', method: 'GET', path: (x) => `${r(x)}/state` },
  { name: 'GET state/{type}', method: 'GET', path: (x) => `${r(x)}/state/m.room.create` },
  { name: 'GET state/{type}/{key}', method: 'GET', path: (x) => `${r(x)}/state/m.room.member/${enc(x.alice.userId)}` },
  { name: 'PUT state', method: 'PUT', path: (x) => `${r(x)}/state/m.room.topic`, body: () => ({ topic: 'ids' }) },
  { name: 'PUT send', method: 'PUT', path: (x) => `${r(x)}/send/m.room.message/ids${++txn}`, body: () => ({ msgtype: 'm.text', body: 'hi' }) },
  { name: 'GET event', method: 'GET', path: (x) => `${r(x)}/event/${enc(x.eventId)}` },
  { name: 'GET context', method: 'GET', path: (x) => `${r(x)}/context/${enc(x.eventId)}` },
  {
    name: 'GET messages with a filter naming the room',
    method: 'GET',
    path: (x) => `${r(x)}/messages?dir=b&filter=${roomsFilter(x)}`,
    check: (reply, x) => assert.ok((reply.body.chunk as Array<{ event_id: string }>).some((e) => e.event_id === x.eventId)),
  },
  { name: 'GET members', method: 'GET', path: (x) => `${r(x)}/members` },
  { name: 'GET joined_members', method: 'GET', path: (x) => `${r(x)}/joined_members` },
  { name: 'GET initialSync', method: 'GET', path: (x) => `${r(x)}/initialSync` },
  { name: 'GET aliases', method: 'GET', path: (x) => `${r(x)}/aliases` },
  { name: 'GET hierarchy', method: 'GET', path: (x) => `${V1}/rooms/${enc(x.roomId)}/hierarchy` },
  { name: 'GET threads', method: 'GET', path: (x) => `${V1}/rooms/${enc(x.roomId)}/threads` },
  { name: 'GET relations', method: 'GET', path: (x) => `${V1}/rooms/${enc(x.roomId)}/relations/${enc(x.eventId)}` },
  { name: 'GET timestamp_to_event', method: 'GET', path: (x) => `${V1}/rooms/${enc(x.roomId)}/timestamp_to_event?dir=b&ts=${Date.now()}` },
  { name: 'PUT directory visibility', method: 'PUT', path: (x) => `${V3}/directory/list/room/${enc(x.roomId)}`, body: () => ({ visibility: 'public' }) },
  { name: 'GET directory visibility', method: 'GET', path: (x) => `${V3}/directory/list/room/${enc(x.roomId)}`, check: (reply) => assert.equal(reply.body.visibility, 'public') },
  { name: 'PUT typing', method: 'PUT', path: (x) => `${r(x)}/typing/${enc(x.alice.userId)}`, body: () => ({ typing: true, timeout: 1000 }) },
  { name: 'POST receipt', method: 'POST', path: (x) => `${r(x)}/receipt/m.read/${enc(x.eventId)}`, body: () => ({}) },
  { name: 'POST read_markers', method: 'POST', path: (x) => `${r(x)}/read_markers`, body: (x) => ({ 'm.fully_read': x.eventId }) },
  {
    name: 'GET account_data/m.fully_read',
    method: 'GET',
    path: (x) => `${userRoom(x)}/account_data/m.fully_read`,
    check: (reply, x) => assert.deepEqual(reply.body, { event_id: x.eventId }),
  },
  { name: 'PUT room account data', method: 'PUT', path: (x) => `${userRoom(x)}/account_data/org.example.ids`, body: () => ({ seen: true }) },
  { name: 'GET room account data', method: 'GET', path: (x) => `${userRoom(x)}/account_data/org.example.ids`, check: (reply) => assert.deepEqual(reply.body, { seen: true }) },
  { name: 'PUT tag', method: 'PUT', path: (x) => `${userRoom(x)}/tags/m.favourite`, body: () => ({ order: 0.5 }) },
  { name: 'PUT tag', method: 'PUT', path: (x) => `${userRoom(x)}/tags/m.lowpriority`, body: () => ({}) },
  { name: 'DELETE tag', method: 'DELETE', path: (x) => `${userRoom(x)}/tags/m.lowpriority` },
  { name: 'GET tags', method: 'GET', path: (x) => `${userRoom(x)}/tags`, check: (reply) => assert.deepEqual(reply.body, { tags: { 'm.favourite': { order: 0.5 } } }) },
  {
    name: 'GET /sync with a filter naming the room (room account data delivered)',
    method: 'GET',
    path: (x) => `${V3}/sync?filter=${enc(JSON.stringify({ room: { rooms: [x.roomId], timeline: { limit: 1 } } }))}`,
    check: (reply, x) => {
      const joined = (reply.body.rooms as { join: Record<string, { account_data: { events: Array<{ type: string; content: unknown }> } }> }).join;
      assert.deepEqual(Object.keys(joined), [x.roomId]);
      const tag = joined[x.roomId]!.account_data.events.find((e) => e.type === 'm.tag');
      assert.deepEqual(tag?.content, { tags: { 'm.favourite': { order: 0.5 } } });
    },
  },
  {
    name: 'POST filter naming the room, then /sync with its ID',
    method: 'POST',
    path: (x) => `${V3}/user/${enc(x.alice.userId)}/filter`,
    body: (x) => ({ room: { rooms: [x.roomId], not_rooms: [], timeline: { rooms: [x.roomId] } } }),
    check: async (reply, x) => {
      const sync = await call(x.baseUrl, 'GET', `${V3}/sync?filter=${enc(reply.body.filter_id as string)}`, undefined, x.alice.accessToken);
      assert.deepEqual(Object.keys((sync.body.rooms as { join: object }).join), [x.roomId]);
    },
  },
  {
    name: 'POST search with a filter naming the room',
    method: 'POST',
    path: () => `${V3}/search`,
    body: (x) => ({ search_categories: { room_events: { search_term: 'needle', filter: { rooms: [x.roomId] } } } }),
    check: (reply, x) => {
      const results = (reply.body.search_categories as { room_events: { results: Array<{ result: { room_id: string } }> } }).room_events.results;
      assert.deepEqual(results.map((res) => res.result.room_id), [x.roomId]);
    },
  },
  {
    name: 'POST sliding sync subscribing to the room',
    method: 'POST',
    path: () => SLIDING_SYNC,
    body: (x) => ({ room_subscriptions: { [x.roomId]: { required_state: [['m.room.create', '']], timeline_limit: 1 } } }),
    check: (reply, x) => assert.ok((reply.body.rooms as Record<string, unknown>)[x.roomId]),
  },
  {
    name: 'POST sliding sync with a list filtered by tag',
    method: 'POST',
    path: () => SLIDING_SYNC,
    body: () => ({ lists: { fav: { ranges: [[0, 9]], timeline_limit: 0, filters: { tags: ['m.favourite'] } } } }),
    check: (reply, x) => assert.equal((reply.body.lists as { fav: { count: number } }).fav.count, 1, JSON.stringify(reply.body.lists) + x.roomId),
  },
  { name: 'PUT push rule for the room', method: 'PUT', path: (x) => `${V3}/pushrules/global/room/${enc(x.roomId)}`, body: () => ({ actions: ['dont_notify'] }) },
  { name: 'GET push rule for the room', method: 'GET', path: (x) => `${V3}/pushrules/global/room/${enc(x.roomId)}`, check: (reply, x) => assert.equal(reply.body.rule_id, x.roomId) },
  { name: 'POST report event', method: 'POST', path: (x) => `${r(x)}/report/${enc(x.eventId)}`, body: () => ({ reason: 'test' }) },
  { name: 'POST report room', method: 'POST', path: (x) => `${r(x)}/report`, body: () => ({ reason: 'test' }) },
  { name: 'POST invite', method: 'POST', path: (x) => `${r(x)}/invite`, body: (x) => ({ user_id: x.carol.userId }) },
  { name: 'POST join/{roomIdOrAlias}', method: 'POST', path: (x) => `${V3}/join/${enc(x.roomId)}`, body: () => ({}), as: (x) => x.carol },
  { name: 'POST kick', method: 'POST', path: (x) => `${r(x)}/kick`, body: (x) => ({ user_id: x.carol.userId, reason: 'test' }) },
  { name: 'POST ban', method: 'POST', path: (x) => `${r(x)}/ban`, body: (x) => ({ user_id: x.carol.userId }) },
  { name: 'POST unban', method: 'POST', path: (x) => `${r(x)}/unban`, body: (x) => ({ user_id: x.carol.userId }) },
  { name: 'POST rooms/{roomId}/join', method: 'POST', path: (x) => `${r(x)}/join`, body: () => ({}), as: (x) => x.carol },
  { name: 'PUT redact', method: 'PUT', path: (x) => `${r(x)}/redact/${enc(x.eventId)}/ids${++txn}`, body: () => ({ reason: 'test' }) },
  { name: 'POST leave', method: 'POST', path: (x) => `${r(x)}/leave`, body: () => ({}), as: (x) => x.carol },
  { name: 'POST forget', method: 'POST', path: (x) => `${r(x)}/forget`, body: () => ({}), as: (x) => x.carol },
  {
    name: 'POST createRoom whose space child and restricted join rule name the room',
    method: 'POST',
    path: () => `${V3}/createRoom`,
    body: (x) => ({
      room_version: '10',
      initial_state: [
        { type: 'm.space.child', state_key: x.roomId, content: { via: ['localhost'] } },
        { type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: x.roomId }] } },
      ],
    }),
    check: async (reply, x) => {
      const joined = await call(x.baseUrl, 'POST', `${V3}/join/${enc(reply.body.room_id as string)}`, {}, x.bob.accessToken);
      assert.equal(joined.status, 200, `bob is in ${x.roomId}, which the join rule allows: ${JSON.stringify(joined.body)}`);
    },
  },
  { name: 'POST upgrade', method: 'POST', path: (x) => `${r(x)}/upgrade`, body: () => ({ new_version: '12' }) },
];

describeEngineAndRoomVersions('room IDs of both forms on every room-scoped endpoint', (server, version) => {
  let room: Room;
  before(async () => {
    const { baseUrl } = server();
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(baseUrl, `${name}${version}`)));
    const created = await call(baseUrl, 'POST', `${V3}/createRoom`, { preset: 'public_chat', room_version: version }, alice!.accessToken);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = created.body.room_id as string;
    assert.equal(parseRoomId(roomId)!.serverName === null, version === '12', `a v${version} room ID: ${roomId}`);
    assert.equal((await call(baseUrl, 'POST', `${V3}/join/${enc(roomId)}`, {}, bob!.accessToken)).status, 200);
    const sent = await call(baseUrl, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/first`, { msgtype: 'm.text', body: 'needle' }, alice!.accessToken);
    room = { baseUrl, roomId, eventId: sent.body.event_id as string, alice: alice!, bob: bob!, carol: carol! };
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const user = c.as?.(room) ?? room.alice;
      const reply = await call(room.baseUrl, c.method, c.path(room), c.body?.(room), user.accessToken);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      await c.check?.(reply, room);
    });
  }

  test('join refuses what is neither a room ID nor an alias, naming both forms', async () => {
    for (const target of ['!short', '!a:bad server', 'room']) {
      const reply = await call(room.baseUrl, 'POST', `${V3}/join/${enc(target)}`, {}, room.bob.accessToken);
      assert.deepEqual([reply.status, reply.body.errcode], [400, 'M_INVALID_PARAM'], target);
      assert.match(reply.body.error as string, /room version 12/);
    }
  });
});
