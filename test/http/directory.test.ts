// Room aliases over real HTTP: create, resolve, list and delete, with who may do each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

describe('room aliases', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  let server: string;
  const api = (method: string, path: string, body?: unknown, user?: TestUser) =>
    call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
  const aliasPath = (alias: string) => `/directory/room/${encodeURIComponent(alias)}`;

  before(async () => {
    hs = await startTestHomeserver();
    server = hs.server.config.serverName;
    [alice, bob, carol] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'carol')]);
    roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
    await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob);
  });
  after(async () => hs.close());

  test('a member creates an alias that resolves to the room; taken aliases get 409', async () => {
    const alias = `#bobs:${server}`;
    assert.equal((await api('PUT', aliasPath(alias), { room_id: roomId }, bob)).status, 200);
    const resolved = await api('GET', aliasPath(alias));
    assert.equal(resolved.status, 200);
    assert.deepEqual(resolved.body, { room_id: roomId, servers: [server] });
    const again = await api('PUT', aliasPath(alias), { room_id: roomId }, alice);
    assert.equal(again.status, 409);
    assert.equal(again.body.errcode, 'M_UNKNOWN');
    assert.match(again.body.error as string, /Room alias already exists/);
    const listed = await api('GET', `/rooms/${encodeURIComponent(roomId)}/aliases`, undefined, alice);
    assert.deepEqual(listed.body, { aliases: [alias] });
  });

  test('creating is refused for other servers, bad aliases, unknown rooms and non-members', async () => {
    const remote = await api('PUT', aliasPath('#x:elsewhere.example'), { room_id: roomId }, alice);
    assert.equal(remote.status, 400);
    assert.equal(remote.body.errcode, 'M_INVALID_PARAM');
    assert.equal((await api('PUT', aliasPath('not-an-alias'), { room_id: roomId }, alice)).body.errcode, 'M_INVALID_PARAM');
    assert.equal((await api('PUT', aliasPath(`#nope:${server}`), { room_id: `!missing:${server}` }, alice)).status, 404);
    const outsider = await api('PUT', aliasPath(`#carols:${server}`), { room_id: roomId }, carol);
    assert.equal(outsider.status, 403);
    assert.equal(outsider.body.errcode, 'M_FORBIDDEN');
    assert.equal((await api('PUT', aliasPath(`#noid:${server}`), {}, alice)).body.errcode, 'M_MISSING_PARAM');
    assert.equal((await api('GET', aliasPath(`#unknown:${server}`))).body.errcode, 'M_NOT_FOUND');
    assert.equal((await api('GET', aliasPath('bad'))).status, 400);
  });

  test('only members (or anyone for world-readable rooms) list aliases', async () => {
    const res = await api('GET', `/rooms/${encodeURIComponent(roomId)}/aliases`, undefined, carol);
    assert.equal(res.status, 403);
    await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility`, { history_visibility: 'world_readable' }, alice);
    assert.equal((await api('GET', `/rooms/${encodeURIComponent(roomId)}/aliases`, undefined, carol)).status, 200);
    await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility`, { history_visibility: 'shared' }, alice);
  });

  test('deleting needs the creator, a room admin or a server admin', async () => {
    const alias = `#deleteme:${server}`;
    await api('PUT', aliasPath(alias), { room_id: roomId }, alice);
    const denied = await api('DELETE', aliasPath(alias), undefined, bob);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errcode, 'M_FORBIDDEN');
    assert.equal((await api('DELETE', aliasPath(alias), undefined, alice)).status, 200);
    assert.equal((await api('GET', aliasPath(alias))).status, 404);
    assert.equal((await api('DELETE', aliasPath(alias), undefined, alice)).status, 404);

    const bobs = `#bobs2:${server}`;
    await api('PUT', aliasPath(bobs), { room_id: roomId }, bob);
    assert.equal((await api('DELETE', aliasPath(bobs), undefined, alice)).status, 200, 'room admin');

    const third = `#third:${server}`;
    await api('PUT', aliasPath(third), { room_id: roomId }, bob);
    assert.equal((await api('DELETE', aliasPath(third), undefined, carol)).status, 403);
    await hs.server.accounts.context.stores.users.setAdmin(carol.userId, true);
    assert.equal((await api('DELETE', aliasPath(third), undefined, carol)).status, 200, 'server admin');
  });

  test("deleting the canonical alias also removes it from the room's m.room.canonical_alias", async () => {
    const main = `#main:${server}`;
    const alt = `#alt:${server}`;
    await api('PUT', aliasPath(main), { room_id: roomId }, alice);
    await api('PUT', aliasPath(alt), { room_id: roomId }, alice);
    const set = await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.canonical_alias`, { alias: main, alt_aliases: [alt] }, alice);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal((await api('DELETE', aliasPath(main), undefined, alice)).status, 200);
    const state = await api('GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.canonical_alias`, undefined, alice);
    assert.deepEqual(state.body, { alt_aliases: [alt] });
  });

  test('m.room.canonical_alias: an alias of bad grammar is M_INVALID_PARAM, one not pointing to the room M_BAD_ALIAS', async () => {
    const put = (content: Record<string, unknown>) => api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.canonical_alias`, content, alice);
    const bad = await put({ alt_aliases: [`%alt:${server}`] });
    assert.deepEqual([bad.status, bad.body.errcode], [400, 'M_INVALID_PARAM']);
    const elsewhere = await put({ alt_aliases: [`#nowhere:${server}`] });
    assert.deepEqual([elsewhere.status, elsewhere.body.errcode], [400, 'M_BAD_ALIAS']);
  });
});
