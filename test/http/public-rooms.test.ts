// The public room directory over real HTTP: publishing, listing order,
// pagination, search terms, room types and who may change visibility.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

interface Page {
  chunk: Array<Record<string, unknown> & { room_id: string; num_joined_members: number }>;
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

describe('public room directory', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let big: string;
  let small: string;
  let space: string;
  let hidden: string;
  const api = (method: string, path: string, body?: unknown, user?: TestUser) =>
    call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    big = (await api('POST', '/createRoom', { visibility: 'public', preset: 'public_chat', name: 'Big Room', topic: 'Everything about Rust', room_alias_name: 'big' }, alice)).body.room_id as string;
    await api('POST', `/join/${encodeURIComponent(big)}`, {}, bob);
    small = (await api('POST', '/createRoom', { visibility: 'public', preset: 'public_chat', name: 'Small room' }, alice)).body.room_id as string;
    space = (await api('POST', '/createRoom', { visibility: 'public', preset: 'public_chat', name: 'A space', creation_content: { type: 'm.space' } }, alice)).body.room_id as string;
    hidden = (await api('POST', '/createRoom', { preset: 'public_chat', name: 'Not published' }, alice)).body.room_id as string;
  });
  after(async () => hs.close());

  test('lists published rooms, biggest first, with their details', async () => {
    const res = await api('GET', '/publicRooms', undefined, bob);
    assert.equal(res.status, 200);
    const page = res.body as unknown as Page;
    assert.equal(page.total_room_count_estimate, 3);
    assert.equal(page.chunk[0]!.room_id, big);
    assert.deepEqual(page.chunk[0], {
      room_id: big,
      name: 'Big Room',
      topic: 'Everything about Rust',
      canonical_alias: `#big:${hs.server.config.serverName}`,
      num_joined_members: 2,
      world_readable: false,
      guest_can_join: false,
      join_rule: 'public',
    });
    assert.deepEqual(page.chunk.slice(1).map((r) => r.room_id), [small, space].sort());
    assert.ok(!page.chunk.some((r) => r.room_id === hidden));
    assert.equal(page.chunk.find((r) => r.room_id === space)!.room_type, 'm.space');
  });

  test('paginates with next_batch and prev_batch', async () => {
    const first = (await api('GET', '/publicRooms?limit=2', undefined, bob)).body as unknown as Page;
    assert.equal(first.chunk.length, 2);
    assert.ok(first.next_batch);
    assert.equal(first.prev_batch, undefined);
    const second = (await api('POST', '/publicRooms', { limit: 2, since: first.next_batch }, bob)).body as unknown as Page;
    assert.equal(second.chunk.length, 1);
    assert.equal(second.next_batch, undefined);
    assert.ok(second.prev_batch);
    assert.deepEqual(new Set([...first.chunk, ...second.chunk].map((r) => r.room_id)), new Set([big, small, space]));
    assert.equal((await api('GET', '/publicRooms?since=garbage', undefined, bob)).status, 400);
  });

  test('filters by search term (name, topic, alias; any case) and room type', async () => {
    const byTopic = (await api('POST', '/publicRooms', { filter: { generic_search_term: 'rust' } }, bob)).body as unknown as Page;
    assert.deepEqual(byTopic.chunk.map((r) => r.room_id), [big]);
    const byName = (await api('POST', '/publicRooms', { filter: { generic_search_term: 'SMALL' } }, bob)).body as unknown as Page;
    assert.deepEqual(byName.chunk.map((r) => r.room_id), [small]);
    const spaces = (await api('POST', '/publicRooms', { filter: { room_types: ['m.space'] } }, bob)).body as unknown as Page;
    assert.deepEqual(spaces.chunk.map((r) => r.room_id), [space]);
    const untyped = (await api('POST', '/publicRooms', { filter: { room_types: [null] } }, bob)).body as unknown as Page;
    assert.equal(untyped.chunk.length, 2);
    const network = (await api('POST', '/publicRooms', { third_party_instance_id: 'irc' }, bob)).body as unknown as Page;
    assert.deepEqual(network.chunk, []);
  });

  test('needs a token unless allow_public_rooms_without_auth; an unreachable server is named in a 502', async () => {
    const res = await api('GET', '/publicRooms');
    assert.equal(res.status, 401);
    assert.equal(res.body.errcode, 'M_MISSING_TOKEN');
    assert.equal((await api('POST', '/publicRooms', {})).status, 401);
    assert.equal((await api('GET', '/publicRooms?server=not a server', undefined, bob)).body.errcode, 'M_INVALID_PARAM');
    const unreachable = await api('GET', '/publicRooms?server=elsewhere.invalid', undefined, bob);
    assert.deepEqual([unreachable.status, unreachable.body.errcode], [502, 'M_UNKNOWN']);
    assert.match(String(unreachable.body.error), /public room list of elsewhere\.invalid/);
    const open = await startTestHomeserver({ config: { allowPublicRoomsWithoutAuth: true } });
    try {
      assert.equal((await call(open.baseUrl, 'GET', '/_matrix/client/v3/publicRooms')).status, 200);
    } finally {
      await open.close();
    }
  });

  test('room admins publish and unpublish; others get 403; unknown rooms 404', async () => {
    const path = `/directory/list/room/${encodeURIComponent(hidden)}`;
    assert.deepEqual((await api('GET', path)).body, { visibility: 'private' });
    const denied = await api('PUT', path, { visibility: 'public' }, bob);
    assert.equal(denied.status, 403);
    assert.equal((await api('PUT', path, { visibility: 'public' }, alice)).status, 200);
    assert.deepEqual((await api('GET', path)).body, { visibility: 'public' });
    assert.equal(((await api('GET', '/publicRooms', undefined, bob)).body as unknown as Page).total_room_count_estimate, 4);
    assert.equal((await api('PUT', path, { visibility: 'private' }, alice)).status, 200);
    assert.equal((await api('PUT', path, { visibility: 'secret' }, alice)).status, 400);
    assert.equal((await api('GET', `/directory/list/room/${encodeURIComponent('!nope:x')}`)).status, 404);
    assert.equal((await api('PUT', `/directory/list/room/${encodeURIComponent('!nope:x')}`, { visibility: 'public' }, alice)).status, 404);
  });

  test('a published room that becomes invite-only leaves the list', async () => {
    await api('PUT', `/rooms/${encodeURIComponent(small)}/state/m.room.join_rules`, { join_rule: 'invite' }, alice);
    const page = (await api('GET', '/publicRooms', undefined, bob)).body as unknown as Page;
    assert.ok(!page.chunk.some((r) => r.room_id === small));
  });
});
