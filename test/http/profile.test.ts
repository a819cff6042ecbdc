// Profile fields over real HTTP (profile.yaml, Matrix 1.16): m.tz and custom
// fields beside displayname and avatar_url, with the spec's limits and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

for (const engine of ENGINES) {
  describe(`profile fields (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    const profile = (user: TestUser, key?: string) =>
      `/_matrix/client/v3/profile/${encodeURIComponent(user.userId)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;
    const put = (user: TestUser, key: string, value: unknown, as = user) => call(hs.baseUrl, 'PUT', profile(user, key), { [key]: value }, as.accessToken);

    before(async () => {
      hs = await startTestHomeserver({ engine, config: { allowGuestAccess: true } });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    });
    after(async () => hs.close());

    test('m.tz and custom fields round-trip, appear in the whole profile, and can be deleted', async () => {
      assert.equal((await put(alice, 'm.tz', 'Europe/London')).status, 200);
      assert.equal((await put(alice, 'com.example.job', { title: 'Engineer', since: 2020 })).status, 200);
      assert.equal((await put(alice, 'org.example.nothing', null)).status, 200);
      assert.deepEqual((await call(hs.baseUrl, 'GET', profile(alice, 'm.tz'))).body, { 'm.tz': 'Europe/London' });
      assert.deepEqual((await call(hs.baseUrl, 'GET', profile(alice, 'org.example.nothing'))).body, { 'org.example.nothing': null }, 'null is stored, not a deletion');
      assert.deepEqual((await call(hs.baseUrl, 'GET', profile(alice))).body, {
        displayname: 'alice',
        'com.example.job': { title: 'Engineer', since: 2020 },
        'm.tz': 'Europe/London',
        'org.example.nothing': null,
      });
      assert.equal((await call(hs.baseUrl, 'DELETE', profile(alice, 'com.example.job'), undefined, alice.accessToken)).status, 200);
      const gone = await call(hs.baseUrl, 'GET', profile(alice, 'com.example.job'));
      assert.deepEqual([gone.status, gone.body.errcode], [404, 'M_NOT_FOUND']);
      assert.equal((await call(hs.baseUrl, 'DELETE', profile(alice, 'com.example.job'), undefined, alice.accessToken)).status, 200, 'deleting an absent field succeeds');
    });

    test('DELETE works for displayname and avatar_url too', async () => {
      assert.equal((await put(bob, 'avatar_url', 'mxc://example.org/abc')).status, 200);
      for (const key of ['displayname', 'avatar_url']) {
        assert.equal((await call(hs.baseUrl, 'DELETE', profile(bob, key), undefined, bob.accessToken)).status, 200);
        assert.equal((await call(hs.baseUrl, 'GET', profile(bob, key))).status, 404);
      }
      assert.deepEqual((await call(hs.baseUrl, 'GET', profile(bob))).body, {});
    });

    test('keys: the namespaced grammar, at most 255 bytes; values: per key', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const badKey = await call(hs.baseUrl, method, profile(alice, 'Not A Key!'), method === 'PUT' ? { 'Not A Key!': 1 } : undefined, alice.accessToken);
        assert.deepEqual([badKey.status, badKey.body.errcode], [400, 'M_INVALID_PARAM'], method);
        const longKey = `com.example.${'a'.repeat(250)}`;
        const tooLong = await call(hs.baseUrl, method, profile(alice, longKey), method === 'PUT' ? { [longKey]: 1 } : undefined, alice.accessToken);
        assert.deepEqual([tooLong.status, tooLong.body.errcode], [400, 'M_KEY_TOO_LARGE'], method);
      }
      const badTz = await put(alice, 'm.tz', 'Mars/Olympus_Mons');
      assert.deepEqual([badTz.status, badTz.body.errcode], [400, 'M_INVALID_PARAM']);
      assert.equal((await put(alice, 'm.tz', 5)).body.errcode, 'M_BAD_JSON');
      assert.equal((await put(alice, 'displayname', ['x'])).body.errcode, 'M_BAD_JSON');
      const missing = await call(hs.baseUrl, 'PUT', profile(alice, 'constructor'), { other: 1 }, alice.accessToken);
      assert.deepEqual([missing.status, missing.body.errcode], [400, 'M_MISSING_PARAM']);
    });

    test('only the user changes their profile', async () => {
      const res = await put(alice, 'm.tz', 'Europe/Paris', bob);
      assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
      assert.equal((await call(hs.baseUrl, 'DELETE', profile(alice, 'm.tz'), undefined, bob.accessToken)).status, 403);
    });

    test('the whole profile stays under 64 KiB: M_PROFILE_TOO_LARGE', async () => {
      const carol = await registerUser(hs.baseUrl, 'carol');
      const big = 'x'.repeat(40_000);
      assert.equal((await put(carol, 'com.example.a', big)).status, 200);
      assert.equal((await put(carol, 'com.example.a', `${big}y`)).status, 200, 'replacing a field counts it once');
      const over = await put(carol, 'com.example.b', big);
      assert.deepEqual([over.status, over.body.errcode], [400, 'M_PROFILE_TOO_LARGE']);
      assert.equal((await call(hs.baseUrl, 'GET', profile(carol, 'com.example.b'))).status, 404);
      assert.equal((await put(carol, 'com.example.c', 'x'.repeat(70_000))).body.errcode, 'M_PROFILE_TOO_LARGE');
    });

    test('guests may set their display name and nothing else', async () => {
      const guest = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/register?kind=guest', {});
      assert.equal(guest.status, 200, JSON.stringify(guest.body));
      const user: TestUser = { userId: guest.body.user_id as string, accessToken: guest.body.access_token as string, deviceId: guest.body.device_id as string };
      assert.equal((await put(user, 'displayname', 'Visitor')).status, 200);
      const tz = await put(user, 'm.tz', 'Europe/London');
      assert.deepEqual([tz.status, tz.body.errcode], [403, 'M_GUEST_ACCESS_FORBIDDEN']);
    });

    test('deactivation clears custom fields with the rest of the profile', async () => {
      const dave = await registerUser(hs.baseUrl, 'dave');
      assert.equal((await put(dave, 'm.tz', 'Asia/Tokyo')).status, 200);
      const first = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/account/deactivate', {}, dave.accessToken);
      const auth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: dave.userId }, password: 'correct horse battery', session: first.body.session };
      assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/client/v3/account/deactivate', { auth }, dave.accessToken)).status, 200);
      assert.equal((await call(hs.baseUrl, 'GET', profile(dave, 'm.tz'))).status, 404);
    });
  });
}
