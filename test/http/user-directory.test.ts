// User directory search over real HTTP: who can find whom (shared rooms,
// public rooms), word-prefix matching, limits, and profile changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

interface Results {
  results: Array<{ user_id: string; display_name?: string; avatar_url?: string }>;
  limited: boolean;
}

for (const engine of ENGINES) {
  describe(`user directory (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let dave: TestUser;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) =>
      call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
    const search = async (user: TestUser, term: string, limit?: number) => {
      const res = await api('POST', '/user_directory/search', { search_term: term, ...(limit !== undefined && { limit }) }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as unknown as Results;
    };

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, dave] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'dave')]);
    });
    after(async () => hs.close());

    test('a user sharing no room and in no public room is not found; joining a public room makes them visible', async () => {
      await api('PUT', `/profile/${encodeURIComponent(dave.userId)}/displayname`, { displayname: 'Dave Lister' }, dave);
      assert.deepEqual((await search(alice, 'dave')).results, []);
      const lobby = (await api('POST', '/createRoom', { preset: 'public_chat' }, bob)).body.room_id as string;
      assert.equal((await api('POST', `/join/${encodeURIComponent(lobby)}`, {}, dave)).status, 200);
      const found = await search(alice, 'dave');
      assert.deepEqual(found, { results: [{ user_id: dave.userId, display_name: 'Dave Lister' }], limited: false });
      assert.equal((await search(alice, 'LIST')).results[0]?.user_id, dave.userId, 'display-name words match by prefix, any case');
      assert.deepEqual((await search(alice, 'ister')).results, [], 'only word prefixes match');
    });

    test('users who share a private room find each other', async () => {
      const carol = await registerUser(hs.baseUrl, 'carol');
      assert.deepEqual((await search(alice, 'carol')).results, []);
      const secret = (await api('POST', '/createRoom', { preset: 'private_chat', invite: [carol.userId] }, alice)).body.room_id as string;
      assert.deepEqual((await search(alice, 'carol')).results, [], 'an invite is not sharing a room');
      await api('POST', `/join/${encodeURIComponent(secret)}`, {}, carol);
      assert.deepEqual((await search(alice, 'carol')).results.map((r) => r.user_id), [carol.userId]);
      assert.deepEqual((await search(bob, 'carol')).results, [], 'bob shares no room with carol');
    });

    for (const [what, open, closed] of [
      ['join rules', { type: 'm.room.join_rules', content: { join_rule: 'public' } }, { type: 'm.room.join_rules', content: { join_rule: 'invite' } }],
      ['history visibility', { type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } }, { type: 'm.room.history_visibility', content: { history_visibility: 'shared' } }],
    ] as const) {
      for (const version of ['10', '12']) {
        test(`members of a room made private again by its ${what} are no longer found (v${version})`, async () => {
          const name = `quinn${what.length}v${version}`;
          const quinn = await registerUser(hs.baseUrl, name);
          const room = (await api('POST', '/createRoom', { preset: 'private_chat', room_version: version, invite: [quinn.userId] }, alice)).body.room_id as string;
          assert.equal((await api('POST', `/join/${encodeURIComponent(room)}`, {}, quinn)).status, 200);
          // Sharing a private room is sharing it with someone else: quinn does not find herself through it.
          assert.deepEqual((await search(quinn, name)).results, []);
          assert.deepEqual((await search(dave, name)).results, []);
          const put = (event: { type: string; content: Record<string, string> }) => api('PUT', `/rooms/${encodeURIComponent(room)}/state/${event.type}/`, event.content, alice);
          assert.equal((await put(open)).status, 200);
          assert.deepEqual((await search(quinn, name)).results.map((r) => r.user_id), [quinn.userId]);
          assert.deepEqual((await search(dave, name)).results.map((r) => r.user_id), [quinn.userId]);
          assert.equal((await put(closed)).status, 200);
          assert.deepEqual((await search(quinn, name)).results, []);
          assert.deepEqual((await search(dave, name)).results, []);
          assert.deepEqual((await search(alice, name)).results.map((r) => r.user_id), [quinn.userId], 'alice still shares the room');
        });
      }
    }

    test('display name changes are reflected', async () => {
      await api('PUT', `/profile/${encodeURIComponent(dave.userId)}/displayname`, { displayname: 'Arnold Rimmer' }, dave);
      assert.deepEqual((await search(alice, 'lister')).results, []);
      assert.deepEqual((await search(alice, 'rimmer')).results, [{ user_id: dave.userId, display_name: 'Arnold Rimmer' }]);
      assert.equal((await search(alice, 'dave')).results.length, 1, 'the localpart still matches');
    });

    test('limit cuts the list and sets limited', async () => {
      for (const name of ['sam1', 'sam2', 'sam3']) {
        const user = await registerUser(hs.baseUrl, name);
        const room = (await api('POST', '/createRoom', { preset: 'public_chat' }, user)).body.room_id as string;
        assert.ok(room);
      }
      const limited = await search(alice, 'sam', 2);
      assert.equal(limited.results.length, 2);
      assert.equal(limited.limited, true);
      const all = await search(alice, 'sam');
      assert.equal(all.results.length, 3);
      assert.equal(all.limited, false);
    });

    test('deactivated users disappear; bad requests are refused', async () => {
      const eve = await registerUser(hs.baseUrl, 'eve');
      await api('POST', '/createRoom', { preset: 'public_chat' }, eve);
      assert.equal((await search(alice, 'eve')).results.length, 1);
      const deactivated = await api('POST', '/account/deactivate', { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'eve' }, password: 'correct horse battery' } }, eve);
      assert.equal(deactivated.status, 200, JSON.stringify(deactivated.body));
      assert.deepEqual((await search(alice, 'eve')).results, []);
      assert.equal((await api('POST', '/user_directory/search', {}, alice)).body.errcode, 'M_MISSING_PARAM');
      assert.equal((await api('POST', '/user_directory/search', { search_term: 'x' })).status, 401);
    });
  });
}

describe('user directory with search_all_users', () => {
  test('finds users who share no room with the searcher', async () => {
    const hs = await startTestHomeserver({ config: { userDirectory: { enabled: true, searchAllUsers: true, preferLocalUsers: false } } });
    try {
      const [alice, zed] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'zed')]);
      await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(zed.userId)}/displayname`, { displayname: 'Zed' }, zed.accessToken);
      const res = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/user_directory/search', { search_term: 'zed' }, alice.accessToken);
      assert.deepEqual(res.body, { results: [{ user_id: zed.userId, display_name: 'Zed' }], limited: false });
    } finally {
      await hs.close();
    }
  });
});
