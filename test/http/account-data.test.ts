import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { enc, V3 } from './user-data-helpers.js';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`account data (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    const room = '!someroom:localhost';

    before(async () => {
      hs = await startTestHomeserver({ engine });
      alice = await registerUser(hs.baseUrl, 'alice');
      bob = await registerUser(hs.baseUrl, 'bob');
    });
    after(() => hs.close());

    const globalPath = (user: TestUser, type: string) => `${V3}/user/${enc(user.userId)}/account_data/${enc(type)}`;
    const roomPath = (user: TestUser, type: string, roomId = room) => `${V3}/user/${enc(user.userId)}/rooms/${enc(roomId)}/account_data/${enc(type)}`;

    test('global: PUT then GET returns the content; a write wakes the user and moves the stream', async () => {
      const notifier = hs.server.services.notifier;
      const before = notifier.position('account_data');
      const waiting = notifier.waitForChange(alice.userId, new Set(), 5000);
      const started = Date.now();
      assert.equal((await call(hs.baseUrl, 'PUT', globalPath(alice, 'org.example.cfg'), { a: 1 }, alice.accessToken)).status, 200);
      await waiting;
      assert.ok(Date.now() - started < 4000, 'woken by the write');
      assert.ok(notifier.position('account_data') > before);
      const got = await call(hs.baseUrl, 'GET', globalPath(alice, 'org.example.cfg'), undefined, alice.accessToken);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, { a: 1 });
    });

    test('room: PUT then GET; no fallback between room and global data', async () => {
      assert.equal((await call(hs.baseUrl, 'PUT', roomPath(alice, 'org.example.r'), { b: 2 }, alice.accessToken)).status, 200);
      assert.deepEqual((await call(hs.baseUrl, 'GET', roomPath(alice, 'org.example.r'), undefined, alice.accessToken)).body, { b: 2 });
      const global = await call(hs.baseUrl, 'GET', globalPath(alice, 'org.example.r'), undefined, alice.accessToken);
      assert.equal(global.status, 404);
      const otherRoom = await call(hs.baseUrl, 'GET', roomPath(alice, 'org.example.cfg'), undefined, alice.accessToken);
      assert.equal(otherRoom.status, 404);
      assert.equal(otherRoom.body.errcode, 'M_NOT_FOUND');
    });

    test("someone else's account data: 403 M_FORBIDDEN on every route", async () => {
      for (const [method, path] of [
        ['PUT', globalPath(alice, 'x.y')],
        ['GET', globalPath(alice, 'org.example.cfg')],
        ['PUT', roomPath(alice, 'x.y')],
        ['GET', roomPath(alice, 'org.example.r')],
      ] as const) {
        const res = await call(hs.baseUrl, method, path, method === 'PUT' ? {} : undefined, bob.accessToken);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.errcode, 'M_FORBIDDEN');
      }
    });

    test('m.fully_read and m.push_rules are refused with 405 M_BAD_JSON', async () => {
      for (const path of [globalPath(alice, 'm.fully_read'), globalPath(alice, 'm.push_rules'), roomPath(alice, 'm.fully_read'), roomPath(alice, 'm.push_rules')]) {
        const res = await call(hs.baseUrl, 'PUT', path, { event_id: '$x' }, alice.accessToken);
        assert.equal(res.status, 405, path);
        assert.equal(res.body.errcode, 'M_BAD_JSON');
      }
    });

    test('bad bodies and room IDs: 400', async () => {
      const notObject = await call(hs.baseUrl, 'PUT', globalPath(alice, 'x.y'), [1, 2], alice.accessToken);
      assert.equal(notObject.status, 400);
      assert.equal(notObject.body.errcode, 'M_BAD_JSON');
      for (const room of ['not-a-room', '!short', '!a:bad server']) {
        const badRoom = await call(hs.baseUrl, 'GET', roomPath(alice, 'x.y', room), undefined, alice.accessToken);
        assert.deepEqual([badRoom.status, badRoom.body.errcode], [400, 'M_INVALID_PARAM'], room);
      }
    });

    test('m.ignored_user_list: validated, and read back as a set of user IDs', async () => {
      const userData = hs.server.services.userData.accountData;
      assert.deepEqual(await userData.ignoredUsers(alice.userId), new Set());
      const bad = await call(hs.baseUrl, 'PUT', globalPath(alice, 'm.ignored_user_list'), { ignored_users: ['@bob:x'] }, alice.accessToken);
      assert.equal(bad.status, 400);
      for (const userId of ['@nocolon', '@bob:', '@bob:bad server']) {
        const notUser = await call(hs.baseUrl, 'PUT', globalPath(alice, 'm.ignored_user_list'), { ignored_users: { [userId]: {} } }, alice.accessToken);
        assert.deepEqual([notUser.status, notUser.body.errcode], [400, 'M_INVALID_PARAM'], userId);
      }
      const ok = await call(hs.baseUrl, 'PUT', globalPath(alice, 'm.ignored_user_list'), { ignored_users: { [bob.userId]: {} } }, alice.accessToken);
      assert.equal(ok.status, 200);
      assert.deepEqual(await userData.ignoredUsers(alice.userId), new Set([bob.userId]));
    });
  });
}
