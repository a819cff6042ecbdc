// Lazy-loading room members in incremental /sync (client-server-api/_index.md,
// "Lazy-loading room members"; sync.yaml, `state`): a gap's state changes,
// members who joined or left in it included, then the member events of the
// timeline's senders the client was not sent yet — never again those it
// holds, unless include_redundant_members asks, and again when the client
// goes back to an older token.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LAZY = JSON.stringify({ room: { timeline: { limit: 3 }, state: { lazy_load_members: true } } });
const REDUNDANT = JSON.stringify({ room: { timeline: { limit: 3 }, state: { lazy_load_members: true, include_redundant_members: true } } });

describeEngineAndRoomVersions('lazy-loaded members in incremental /sync', (server, version) => {
  let alice: TestUser, bob: TestUser, charlie: TestUser, dave: TestUser;
  let n = 0;
  const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(server().baseUrl, method, `${V3}${path}`, body, user.accessToken);
  const sync = async (user: TestUser, filter: string, since?: string) => {
    const res = await api('GET', `/sync?${new URLSearchParams({ timeout: '0', filter, ...(since && { since }) })}`, undefined, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const say = async (user: TestUser, roomId: string, count: number) => {
    for (let i = 0; i < count; i++) {
      assert.equal((await api('PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++n}`, { msgtype: 'm.text', body: `m${n}` }, user)).status, 200);
    }
  };
  const join = async (user: TestUser, roomId: string) => assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, user)).status, 200);
  /** The room's member events in `state`, as state_key → membership. */
  const members = (body: Json, roomId: string) =>
    Object.fromEntries(
      ((body.rooms.join[roomId]?.state.events ?? []) as Json[]).filter((e) => e.type === 'm.room.member').map((e) => [e.state_key, e.content.membership]),
    );
  const room = async () => {
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, alice)).body.room_id as string;
    await join(bob, roomId);
    await join(charlie, roomId);
    await say(bob, roomId, 3);
    return roomId;
  };

  before(async () => {
    const hs = server().baseUrl;
    [alice, bob, charlie, dave] = await Promise.all(['alice', 'bob', 'charlie', 'dave'].map((name) => registerUser(hs, `${name}-ll-v${version}`)));
  });

  test('a gapped sync brings the gap’s joins and leaves and the new senders, not the members already sent', async () => {
    const roomId = await room();
    const first = await sync(alice, LAZY);
    assert.deepEqual(members(first, roomId), { [alice.userId]: 'join', [bob.userId]: 'join' });

    await join(dave, roomId);
    await say(charlie, roomId, 4);
    const gapped = await sync(alice, LAZY, first.next_batch);
    assert.equal(gapped.rooms.join[roomId].timeline.limited, true);
    assert.deepEqual(members(gapped, roomId), { [charlie.userId]: 'join', [dave.userId]: 'join' }, 'dave joined in the gap; charlie speaks');

    assert.equal((await api('POST', `/rooms/${enc(roomId)}/leave`, {}, dave)).status, 200);
    await say(charlie, roomId, 4);
    const again = await sync(alice, LAZY, gapped.next_batch);
    assert.equal(again.rooms.join[roomId].timeline.limited, true);
    assert.deepEqual(members(again, roomId), { [dave.userId]: 'leave' }, 'charlie’s join was sent already');
  });

  test('member events the device holds are not sent again unless include_redundant_members asks', async () => {
    const roomId = await room();
    await say(charlie, roomId, 1);
    const first = await sync(alice, LAZY);
    assert.deepEqual(members(first, roomId), { [alice.userId]: 'join', [bob.userId]: 'join', [charlie.userId]: 'join' });
    await say(bob, roomId, 1);
    await say(charlie, roomId, 1);
    const next = await sync(alice, LAZY, first.next_batch);
    assert.equal(next.rooms.join[roomId].timeline.limited, false);
    assert.deepEqual(members(next, roomId), {}, 'redundant');
    const redundant = await sync(alice, REDUNDANT, first.next_batch);
    assert.deepEqual(members(redundant, roomId), { [bob.userId]: 'join', [charlie.userId]: 'join' });

  });

  test('a client that goes back to an older token holds only what the responses it followed carried', async () => {
    const roomId = await room();
    const start = await sync(alice, LAZY);
    await say(charlie, roomId, 1);
    const lost = await sync(alice, LAZY, start.next_batch);
    assert.deepEqual(members(lost, roomId), { [charlie.userId]: 'join' });
    // The client never saw `lost` and syncs from `start` again; by now
    // charlie's message is out of its timeline.
    await say(bob, roomId, 3);
    const retried = await sync(alice, LAZY, start.next_batch);
    assert.deepEqual(retried.rooms.join[roomId].timeline.events.map((e: Json) => e.sender), [bob.userId, bob.userId, bob.userId]);
    assert.deepEqual(members(retried, roomId), {});
    await say(charlie, roomId, 1);
    const after = await sync(alice, LAZY, retried.next_batch);
    assert.deepEqual(members(after, roomId), { [charlie.userId]: 'join' }, 'only the unfollowed response carried it');
  });
});
