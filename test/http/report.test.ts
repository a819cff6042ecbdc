// Reporting events, rooms and users over real HTTP, and reading reports back through
// Synapse's admin API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

describe('reporting content', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let roomId: string;
  let eventId: string;
  const api = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, path.startsWith('/_synapse') ? path : `/_matrix/client/v3${path}`, body, user?.accessToken);
  const reportPath = (room: string, event: string) => `/rooms/${encodeURIComponent(room)}/report/${encodeURIComponent(event)}`;

  before(async () => {
    hs = await startTestHomeserver();
    [alice, bob, admin] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'admin')]);
    await hs.server.accounts.context.stores.users.setAdmin(admin.userId, true);
    roomId = (await api('POST', '/createRoom', { preset: 'private_chat' }, alice)).body.room_id as string;
    eventId = (await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/1`, { msgtype: 'm.text', body: 'rude' }, alice)).body.event_id as string;
  });
  after(async () => hs.close());

  test('a member reports an event; admins list it', async () => {
    assert.equal((await api('POST', reportPath(roomId, eventId), { reason: 'offensive', score: -50 }, alice)).status, 200);
    const list = await api('GET', '/_synapse/admin/v1/event_reports', undefined, admin);
    assert.equal(list.status, 200);
    assert.equal(list.body.total, 1);
    const [report] = list.body.event_reports as Array<Record<string, unknown>>;
    assert.equal(report!.room_id, roomId);
    assert.equal(report!.event_id, eventId);
    assert.equal(report!.user_id, alice.userId);
    assert.equal(report!.reason, 'offensive');
    assert.equal(report!.score, -50);
    assert.equal(typeof report!.received_ts, 'number');
  });

  test('non-members and unknown events get 404; bad scores 400', async () => {
    const outsider = await api('POST', reportPath(roomId, eventId), { reason: 'x' }, bob);
    assert.equal(outsider.status, 404);
    assert.equal(outsider.body.errcode, 'M_NOT_FOUND');
    assert.equal((await api('POST', reportPath(roomId, '$missing'), { reason: 'x' }, alice)).status, 404);
    const badScore = await api('POST', reportPath(roomId, eventId), { reason: 'x', score: 5 }, alice);
    assert.equal(badScore.status, 400);
    assert.equal(badScore.body.errcode, 'M_INVALID_PARAM');
    assert.equal((await api('POST', reportPath(roomId, eventId), { score: -101 }, alice)).status, 400);
  });

  test('rooms can be reported by anyone; unknown rooms are 404; reason is required', async () => {
    assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/report`, { reason: 'spam room' }, bob)).status, 200);
    assert.equal((await api('POST', `/rooms/${encodeURIComponent('!nope:x')}/report`, { reason: 'x' }, bob)).status, 404);
    assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/report`, {}, bob)).body.errcode, 'M_MISSING_PARAM');
  });

  test('the admin listing pages with from/limit and needs an admin', async () => {
    await api('POST', reportPath(roomId, eventId), { reason: 'second' }, alice);
    const page = await api('GET', '/_synapse/admin/v1/event_reports?limit=1', undefined, admin);
    assert.equal(page.body.total, 2);
    assert.equal((page.body.event_reports as unknown[]).length, 1);
    assert.equal((page.body.event_reports as Array<{ reason: string }>)[0]!.reason, 'second', 'newest first');
    assert.equal(page.body.next_token, 1);
    const next = await api('GET', '/_synapse/admin/v1/event_reports?limit=1&from=1', undefined, admin);
    assert.equal((next.body.event_reports as Array<{ reason: string }>)[0]!.reason, 'offensive');
    assert.equal(next.body.next_token, undefined);
    const denied = await api('GET', '/_synapse/admin/v1/event_reports', undefined, alice);
    assert.equal(denied.status, 403);
    assert.equal((await api('GET', '/_synapse/admin/v1/event_reports')).status, 401);
  });
});

for (const engine of ENGINES) {
  describe(`reporting users (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let admin: TestUser;
    const report = (target: string, body: unknown, user: TestUser) => call(hs.baseUrl, 'POST', `/_matrix/client/v3/users/${encodeURIComponent(target)}/report`, body, user.accessToken);
    const listing = (query = '', user = admin) => call(hs.baseUrl, 'GET', `/_synapse/admin/v1/user_reports${query}`, undefined, user.accessToken);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, admin] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'admin')]);
      await hs.server.accounts.context.stores.users.setAdmin(admin.userId, true);
    });
    after(async () => hs.close());

    test('a report about a local user is kept for admins; unknown and remote users are not disclosed', async () => {
      assert.equal((await report(bob.userId, { reason: 'spam invites' }, alice)).status, 200);
      assert.equal((await report(`@ghost:${hs.config.serverName}`, { reason: 'x' }, alice)).status, 200);
      assert.equal((await report('@someone:elsewhere.example', { reason: 'x' }, alice)).status, 200);
      assert.equal((await report(alice.userId, { reason: '' }, bob)).status, 200, 'the reason may be blank');
      const list = await listing();
      assert.equal(list.status, 200);
      assert.equal(list.body.total, 2);
      const [newest, oldest] = list.body.user_reports as Array<Record<string, unknown>>;
      assert.deepEqual([newest!.target_user_id, newest!.user_id, newest!.reason], [alice.userId, bob.userId, '']);
      assert.deepEqual([oldest!.target_user_id, oldest!.user_id, oldest!.reason], [bob.userId, alice.userId, 'spam invites']);
      const filtered = await listing(`?target_user_id=${encodeURIComponent(bob.userId)}&limit=1`);
      assert.deepEqual([filtered.body.total, (filtered.body.user_reports as unknown[]).length, filtered.body.next_token], [1, 1, undefined]);
      assert.equal((await listing('', alice)).status, 403);
    });

    test('reason is required and at most 1000 characters; the user ID must be valid', async () => {
      assert.equal((await report(bob.userId, {}, alice)).body.errcode, 'M_MISSING_PARAM');
      const long = await report(bob.userId, { reason: 'x'.repeat(1001) }, alice);
      assert.deepEqual([long.status, long.body.errcode], [400, 'M_BAD_JSON']);
      assert.equal((await report('not-a-user', { reason: 'x' }, alice)).body.errcode, 'M_INVALID_PARAM');
    });
  });
}
