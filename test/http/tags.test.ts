import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { enc, V3 } from './user-data-helpers.js';

describe('room tags', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  const room = '!tagged:localhost';

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
  });
  after(() => hs.close());

  const tags = (user: TestUser) => `${V3}/user/${enc(user.userId)}/rooms/${enc(room)}/tags`;
  const tag = (user: TestUser, name: string) => `${tags(user)}/${enc(name)}`;

  test('no tags: an empty map', async () => {
    const res = await call(hs.baseUrl, 'GET', tags(alice), undefined, alice.accessToken);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { tags: {} });
  });

  test('PUT adds, DELETE removes; stored as the m.tag room account data /sync delivers', async () => {
    assert.equal((await call(hs.baseUrl, 'PUT', tag(alice, 'm.favourite'), { order: 0.25 }, alice.accessToken)).status, 200);
    assert.equal((await call(hs.baseUrl, 'PUT', tag(alice, 'u.work'), {}, alice.accessToken)).status, 200);
    assert.deepEqual((await call(hs.baseUrl, 'GET', tags(alice), undefined, alice.accessToken)).body, {
      tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} },
    });
    const mTag = await call(hs.baseUrl, 'GET', `${V3}/user/${enc(alice.userId)}/rooms/${enc(room)}/account_data/m.tag`, undefined, alice.accessToken);
    assert.deepEqual(mTag.body, { tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    assert.equal((await call(hs.baseUrl, 'DELETE', tag(alice, 'u.work'), undefined, alice.accessToken)).status, 200);
    assert.deepEqual((await call(hs.baseUrl, 'GET', tags(alice), undefined, alice.accessToken)).body, { tags: { 'm.favourite': { order: 0.25 } } });
    const changes = await hs.server.accounts.context.stores.accountData.changesSince(alice.userId, 0);
    assert.ok(changes.some((c) => c.roomId === room && c.type === 'm.tag'));
  });

  test('concurrent tag writes are not lost', async () => {
    await Promise.all(['u.a', 'u.b', 'u.c', 'u.d'].map((name) => call(hs.baseUrl, 'PUT', tag(bob, name), {}, bob.accessToken)));
    const res = await call(hs.baseUrl, 'GET', tags(bob), undefined, bob.accessToken);
    assert.deepEqual(Object.keys(res.body.tags as object).sort(), ['u.a', 'u.b', 'u.c', 'u.d']);
  });

  test('order must be a number in [0, 1]; tag names at most 255 bytes', async () => {
    const notNumber = await call(hs.baseUrl, 'PUT', tag(alice, 'u.x'), { order: 'first' }, alice.accessToken);
    assert.equal(notNumber.status, 400);
    assert.equal(notNumber.body.errcode, 'M_BAD_JSON');
    const outOfRange = await call(hs.baseUrl, 'PUT', tag(alice, 'u.x'), { order: 1.5 }, alice.accessToken);
    assert.equal(outOfRange.status, 400);
    assert.equal(outOfRange.body.errcode, 'M_INVALID_PARAM');
    const long = await call(hs.baseUrl, 'PUT', tag(alice, 'u.' + 'é'.repeat(127)), {}, alice.accessToken);
    assert.equal(long.status, 400);
  });

  test("another user's tags: 403", async () => {
    for (const [method, path] of [['GET', tags(alice)], ['PUT', tag(alice, 'u.x')], ['DELETE', tag(alice, 'm.favourite')]] as const) {
      const res = await call(hs.baseUrl, method, path, method === 'PUT' ? {} : undefined, bob.accessToken);
      assert.equal(res.status, 403, method);
      assert.equal(res.body.errcode, 'M_FORBIDDEN');
    }
  });
});
