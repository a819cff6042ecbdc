// History visibility rules (modules/history_visibility.md) on events of a
// real room: leaving stops visibility, own membership and history_visibility
// changes are judged before *or* after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

describe('history visibility', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let txn = 0;
  const api = (method: string, path: string, body: unknown, user: TestUser) => call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);
  const r = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;
  const visibleTo = async (userId: string, roomId: string) => {
    const { roomStore, visibility } = hs.server.services;
    const all = await roomStore.events.getEventsByStream([roomId], 0, await roomStore.events.maxStreamPosition(), 1000, 'forward');
    const seen = await visibility.filterVisible(userId, all);
    return seen.map((e) => (JSON.parse(e.json) as { content: Record<string, unknown> }).content.body ?? `${e.type}:${e.stateKey ?? ''}`);
  };

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob, carol] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'carol')]);
  });
  after(async () => hs.close());

  test('after leaving, later events are hidden but the leave itself is visible', async () => {
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }] }, alice)).body.room_id as string;
    await api('POST', `${r(roomId)}/join`, {}, bob);
    await api('PUT', `${r(roomId)}/send/m.room.message/t${++txn}`, { body: 'while joined' }, alice);
    await api('POST', `${r(roomId)}/leave`, {}, bob);
    await api('PUT', `${r(roomId)}/send/m.room.message/t${++txn}`, { body: 'after leaving' }, alice);
    const seen = await visibleTo(bob.userId, roomId);
    assert.ok(seen.includes('while joined'));
    assert.ok(!seen.includes('after leaving'));
    assert.equal(seen.filter((s) => s === `m.room.member:${bob.userId}`).length, 2, 'own join and leave');
    // createRoom sends the creator's join before history_visibility: under the default (shared) it is visible.
    assert.ok(seen.includes(`m.room.member:${alice.userId}`));
    assert.ok(seen.includes('m.room.history_visibility:'));
  });

  test('a change to world_readable is visible to a non-member, as is what follows', async () => {
    const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }] }, alice)).body.room_id as string;
    await api('PUT', `${r(roomId)}/send/m.room.message/t${++txn}`, { body: 'private' }, alice);
    await api('PUT', `${r(roomId)}/state/m.room.history_visibility/`, { history_visibility: 'world_readable' }, alice);
    await api('PUT', `${r(roomId)}/send/m.room.message/t${++txn}`, { body: 'public' }, alice);
    const seen = await visibleTo(carol.userId, roomId);
    assert.deepEqual(seen, ['m.room.history_visibility:', 'public']);
  });
});
