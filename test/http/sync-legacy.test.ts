// The deprecated GET /events, GET /initialSync and GET /rooms/{roomId}/initialSync.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('legacy sync endpoints', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    roomId = (await api('POST', '/createRoom', { preset: 'public_chat', name: 'old school' }, alice)).body.room_id as string;
    await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/l1`, { msgtype: 'm.text', body: 'first' }, alice);
  });
  after(async () => hs.close());

  test('GET /initialSync lists rooms with messages, state and tokens', async () => {
    const res = await api('GET', '/initialSync?limit=1', undefined, alice);
    assert.equal(res.status, 200);
    const room = res.body.rooms.find((r: Json) => r.room_id === roomId);
    assert.equal(room.membership, 'join');
    assert.deepEqual(room.messages.chunk.map((e: Json) => e.content.body), ['first']);
    assert.equal(room.messages.chunk[0].room_id, roomId);
    assert.ok(room.state.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'old school'));
    assert.equal(room.visibility, 'public');
    assert.equal(typeof res.body.end, 'string');
  });

  test('GET /rooms/{roomId}/initialSync answers members and refuses others', async () => {
    const res = await api('GET', `/rooms/${encodeURIComponent(roomId)}/initialSync?limit=5`, undefined, alice);
    assert.equal(res.status, 200);
    assert.equal(res.body.room_id, roomId);
    assert.equal(res.body.messages.chunk.at(-1).content.body, 'first');
    const stranger = await api('GET', `/rooms/${encodeURIComponent(roomId)}/initialSync`, undefined, bob);
    assert.equal(stranger.status, 403);
  });

  test('GET /events long-polls from a token and returns new events with room_id', async () => {
    const initial = (await api('GET', '/initialSync?limit=0', undefined, alice)).body;
    assert.ok(initial.rooms.every((r: Json) => r.messages.chunk.length === 0), 'limit=0: state only');
    // The first /events marks alice online; take that presence change out of the way.
    const { end } = (await api('GET', `/events?from=${encodeURIComponent(initial.end)}&timeout=0`, undefined, alice)).body;
    const polled = api('GET', `/events?from=${encodeURIComponent(end)}&timeout=5000`, undefined, alice);
    await new Promise((r) => setTimeout(r, 50));
    await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/l2`, { msgtype: 'm.text', body: 'second' }, alice);
    const res = await polled;
    assert.equal(res.status, 200);
    assert.equal(res.body.start, end);
    assert.notEqual(res.body.end, end);
    const message = res.body.chunk.find((e: Json) => e.type === 'm.room.message');
    assert.equal(message.content.body, 'second');
    assert.equal(message.room_id, roomId);
    const quiet = await api('GET', `/events?from=${encodeURIComponent(res.body.end)}&timeout=50`, undefined, alice);
    assert.deepEqual(quiet.body.chunk, []);
  });

  test('GET /events carries account data as it changes: global, and a room\'s (tags too) with its room_id', async () => {
    const user = encodeURIComponent(alice.userId);
    const { end } = (await api('GET', '/events?timeout=0', undefined, alice)).body;
    const polled = api('GET', `/events?from=${encodeURIComponent(end)}&timeout=5000`, undefined, alice);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await api('PUT', `/user/${user}/account_data/org.example.cats`, { cats: 1 }, alice)).status, 200);
    const notPresence = (chunk: Json[]) => chunk.filter((e) => e.type !== 'm.presence');
    assert.deepEqual(notPresence((await polled).body.chunk), [{ type: 'org.example.cats', content: { cats: 1 } }]);
    const last = (await polled).body.end as string;
    assert.equal((await api('PUT', `/user/${user}/rooms/${encodeURIComponent(roomId)}/account_data/org.example.rats`, { rats: 2 }, alice)).status, 200);
    assert.equal((await api('PUT', `/user/${user}/rooms/${encodeURIComponent(roomId)}/tags/u.work`, { order: 1 }, alice)).status, 200);
    const room = await api('GET', `/events?from=${encodeURIComponent(last)}&timeout=0`, undefined, alice);
    assert.deepEqual(
      new Set(notPresence(room.body.chunk)),
      new Set([
        { type: 'org.example.rats', content: { rats: 2 }, room_id: roomId },
        { type: 'm.tag', content: { tags: { 'u.work': { order: 1 } } }, room_id: roomId },
      ]),
    );
  });
});

// GET /events (old_sync.yaml) with room_id follows one room, which the user
// must be in: the stream never carries events of a room the requester is
// not in; guests must name the room.
describe('legacy GET /events is scoped to rooms the requester is in', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let txn = 0;
  const api = (method: string, path: string, body: unknown, token: string) => call<Json>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, token);
  const say = async (roomId: string, body: string) =>
    assert.equal((await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/s${++txn}`, { msgtype: 'm.text', body }, alice.accessToken)).status, 200);

  before(async () => {
    hs = await startTestHomeserver({ config: { allowGuestAccess: true } });
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
  });
  after(async () => hs.close());

  for (const version of ['10', '12']) {
    test(`room_id narrows the stream to that room, and a room not joined is 403 (v${version})`, async () => {
      const create = async () => (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, alice.accessToken)).body.room_id as string;
      const [followed, other, outside] = [await create(), await create(), await create()];
      for (const roomId of [followed, other]) assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/join`, {}, bob.accessToken)).status, 200);
      const start = (await api('GET', `/events?room_id=${encodeURIComponent(followed)}&timeout=0`, undefined, bob.accessToken)).body.end as string;
      await say(other, 'elsewhere');
      await say(outside, 'not for bob');
      await say(followed, 'here');
      const res = await api('GET', `/events?room_id=${encodeURIComponent(followed)}&from=${encodeURIComponent(start)}&timeout=0`, undefined, bob.accessToken);
      assert.equal(res.status, 200);
      assert.deepEqual(
        (res.body.chunk as Json[]).filter((e) => e.room_id !== undefined).map((e) => [e.room_id, e.content.body]),
        [[followed, 'here']],
      );
      for (const roomId of [outside, '!nosuchroom:localhost']) {
        const refused = await api('GET', `/events?room_id=${encodeURIComponent(roomId)}&timeout=0`, undefined, bob.accessToken);
        assert.equal(refused.status, 403);
        assert.equal(refused.body.errcode, 'M_FORBIDDEN');
      }
    });
  }

  for (const version of ['10', '12']) {
    test(`anyone may room-initialSync a world_readable room, and sees only its world_readable history (v${version})`, async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, alice.accessToken)).body.room_id as string;
      await say(roomId, 'private');
      assert.equal((await api('GET', `/rooms/${encodeURIComponent(roomId)}/initialSync`, undefined, bob.accessToken)).status, 403, 'not world_readable yet');
      await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility/`, { history_visibility: 'world_readable' }, alice.accessToken);
      await say(roomId, 'public');
      await api('PUT', `/presence/${encodeURIComponent(alice.userId)}/status`, { presence: 'online' }, alice.accessToken);
      const res = await api('GET', `/rooms/${encodeURIComponent(roomId)}/initialSync?limit=20`, undefined, bob.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const chunk = res.body.messages.chunk as Json[];
      assert.deepEqual(
        chunk.map((e) => (e.type === 'm.room.message' ? e.content.body : `${e.type} ${e.content.history_visibility}`)),
        ['m.room.history_visibility world_readable', 'public'],
      );
      assert.equal(res.body.membership, undefined, 'a peek has no membership');
      assert.ok((res.body.state as Json[]).some((e) => e.type === 'm.room.create'));
      assert.deepEqual((res.body.presence as Json[]).map((e) => e.sender), [alice.userId]);
    });
  }

  for (const version of ['10', '12']) {
    test(`a non-member may follow a world_readable room's events, typing included, and nothing else (v${version})`, async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, alice.accessToken)).body.room_id as string;
      const other = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, alice.accessToken)).body.room_id as string;
      await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility/`, { history_visibility: 'world_readable' }, alice.accessToken);
      const start = await api('GET', `/events?room_id=${encodeURIComponent(roomId)}&timeout=0`, undefined, bob.accessToken);
      assert.equal(start.status, 200, JSON.stringify(start.body));
      await say(other, 'not followed');
      await say(roomId, 'mice');
      await api('PUT', `/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, { typing: true, timeout: 30_000 }, alice.accessToken);
      await api('PUT', `/presence/${encodeURIComponent(alice.userId)}/status`, { presence: 'online', status_msg: `peeked in v${version}` }, alice.accessToken);
      const mice = (await api('GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1`, undefined, alice.accessToken)).body.chunk[0].event_id as string;
      const receipt = await api('POST', `/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(mice)}`, {}, alice.accessToken);
      assert.equal(receipt.status, 200, JSON.stringify(receipt.body));
      const res = await api('GET', `/events?room_id=${encodeURIComponent(roomId)}&from=${encodeURIComponent(start.body.end as string)}&timeout=0`, undefined, bob.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const roomEvents = (res.body.chunk as Json[]).filter((e) => e.room_id !== undefined);
      assert.deepEqual(
        roomEvents.map((e) => [e.room_id, e.type, e.content.body ?? e.content.user_ids]),
        [
          [roomId, 'm.room.message', 'mice'],
          [roomId, 'm.typing', [alice.userId]],
          [roomId, 'm.receipt', undefined],
        ],
      );
      // The members' presence comes too, naming its user in content as this API always did.
      const presence = (res.body.chunk as Json[]).find((e) => e.type === 'm.presence' && e.content.status_msg === `peeked in v${version}`);
      assert.equal(presence?.content.user_id, alice.userId);
    });
  }

  test('a guest must name the room it follows', async () => {
    const guest = await call<Json>(hs.baseUrl, 'POST', '/_matrix/client/v3/register?kind=guest', {});
    const res = await api('GET', '/events?timeout=0', undefined, guest.body.access_token as string);
    assert.equal(res.status, 400);
    assert.equal(res.body.errcode, 'M_MISSING_PARAM');
  });
});
