// Refresh tokens (client-server-api "Refreshing access tokens"; refresh.yaml)
// with Synapse's lifetimes: refreshable_access_token_lifetime,
// refresh_token_lifetime, nonrefreshable_access_token_lifetime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenLifetimes } from '../../src/config/types.js';
import { call, registerUser, type Reply } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserverWithClock, type TestHomeserver } from '../helpers/homeserver.js';

const V3 = '/_matrix/client/v3';
const PASSWORD = 'correct horse battery';

const startWithClock = (engine: (typeof ENGINES)[number], tokenLifetimes?: TokenLifetimes) =>
  startTestHomeserverWithClock({ engine, ...(tokenLifetimes ? { config: { tokenLifetimes } } : {}) });

function loginAs(hs: TestHomeserver, user: string, extra: Record<string, unknown> = {}): Promise<Reply> {
  return call(hs.baseUrl, 'POST', `${V3}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password: PASSWORD, ...extra });
}
const whoami = (hs: TestHomeserver, token: unknown) => call(hs.baseUrl, 'GET', `${V3}/account/whoami`, undefined, token as string);
const refresh = (hs: TestHomeserver, token: unknown) => call(hs.baseUrl, 'POST', `${V3}/refresh`, { refresh_token: token });

for (const engine of ENGINES) {
  describe(`refresh tokens with Synapse's default lifetimes (${engine})`, () => {
    let hs: TestHomeserver;
    let advance: (ms: number) => void;
    before(async () => ({ hs, advance } = await startWithClock(engine)));
    after(async () => hs.close());

    test('login and registration give a refresh token and a 5-minute access token only when asked', async () => {
      const alice = await registerUser(hs.baseUrl, 'alice', PASSWORD);
      const plain = await loginAs(hs, alice.userId);
      assert.equal(plain.body.refresh_token, undefined);
      assert.equal(plain.body.expires_in_ms, undefined, 'without refresh tokens an access token does not expire');
      const refreshable = await loginAs(hs, alice.userId, { refresh_token: true });
      assert.equal(refreshable.status, 200, JSON.stringify(refreshable.body));
      assert.match(refreshable.body.refresh_token as string, /^axr_/);
      assert.equal(refreshable.body.expires_in_ms, 300_000);
      const first = await call(hs.baseUrl, 'POST', `${V3}/register`, { username: 'refreshing', password: PASSWORD, refresh_token: true });
      const registered = await call(hs.baseUrl, 'POST', `${V3}/register`, { auth: { type: 'm.login.dummy', session: first.body.session } });
      assert.equal(registered.status, 200, JSON.stringify(registered.body));
      assert.match(registered.body.refresh_token as string, /^axr_/);
      assert.equal(registered.body.expires_in_ms, 300_000);
      assert.equal((await loginAs(hs, alice.userId, { refresh_token: 'yes' })).body.errcode, 'M_BAD_JSON');
    });

    test('an expired access token is soft-logged-out; refreshing gives new tokens on the same device', async () => {
      await registerUser(hs.baseUrl, 'bob', PASSWORD);
      const login = await loginAs(hs, 'bob', { refresh_token: true });
      advance(300_000);
      const expired = await whoami(hs, login.body.access_token);
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.body, { errcode: 'M_UNKNOWN_TOKEN', error: 'Access token has expired', soft_logout: true });

      const refreshed = await refresh(hs, login.body.refresh_token);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal(refreshed.body.expires_in_ms, 300_000);
      assert.notEqual(refreshed.body.refresh_token, login.body.refresh_token);
      assert.deepEqual((await whoami(hs, refreshed.body.access_token)).body, { user_id: login.body.user_id, device_id: login.body.device_id, is_guest: false });
    });

    test('the spent refresh token works again until the new tokens are used; then it and its access token are revoked', async () => {
      await registerUser(hs.baseUrl, 'carol', PASSWORD);
      const login = await loginAs(hs, 'carol', { refresh_token: true });
      assert.equal((await whoami(hs, login.body.access_token)).status, 200, 'the access token is now cached');
      const lost = await refresh(hs, login.body.refresh_token);
      const retried = await refresh(hs, login.body.refresh_token);
      assert.equal(retried.status, 200, 'a client that lost the answer refreshes again');
      assert.equal((await whoami(hs, lost.body.access_token)).status, 401, 'the lost answer\u2019s tokens are gone');
      assert.equal((await whoami(hs, login.body.access_token)).status, 200, 'the old access token lives until the new one is used');

      assert.equal((await whoami(hs, retried.body.access_token)).status, 200);
      const old = await whoami(hs, login.body.access_token);
      assert.equal(old.status, 401);
      assert.equal(old.body.soft_logout, false);
      const spent = await refresh(hs, login.body.refresh_token);
      assert.equal(spent.status, 401);
      assert.deepEqual([spent.body.errcode, spent.body.soft_logout], ['M_UNKNOWN_TOKEN', false]);
      assert.equal((await refresh(hs, retried.body.refresh_token)).status, 200, 'the new refresh token works');
    });

    test('unknown, missing and logged-out refresh tokens', async () => {
      const unknown = await refresh(hs, 'axr_nonsense');
      assert.deepEqual([unknown.status, unknown.body.errcode, unknown.body.soft_logout], [401, 'M_UNKNOWN_TOKEN', false]);
      const missing = await call(hs.baseUrl, 'POST', `${V3}/refresh`, {});
      assert.deepEqual([missing.status, missing.body.errcode], [400, 'M_MISSING_PARAM']);
      await registerUser(hs.baseUrl, 'dave', PASSWORD);
      const login = await loginAs(hs, 'dave', { refresh_token: true });
      assert.equal((await call(hs.baseUrl, 'POST', `${V3}/logout`, {}, login.body.access_token as string)).status, 200);
      assert.equal((await refresh(hs, login.body.refresh_token)).status, 401, 'logging out ends the refresh token too');
    });
  });

  describe(`token lifetimes from homeserver.yaml (${engine})`, () => {
    test('refresh_token_lifetime and nonrefreshable_access_token_lifetime expire their tokens', async () => {
      const { hs, advance } = await startWithClock(engine, { refreshableAccessToken: 60_000, refreshToken: 120_000, nonrefreshableAccessToken: 600_000 });
      try {
        await registerUser(hs.baseUrl, 'erin', PASSWORD);
        const plain = await loginAs(hs, 'erin');
        assert.equal(plain.body.expires_in_ms, 600_000);
        assert.equal(plain.body.refresh_token, undefined);
        const refreshable = await loginAs(hs, 'erin', { refresh_token: true });
        assert.equal(refreshable.body.expires_in_ms, 60_000);
        advance(120_000);
        const expired = await refresh(hs, refreshable.body.refresh_token);
        assert.deepEqual([expired.status, expired.body.errcode, expired.body.soft_logout], [401, 'M_UNKNOWN_TOKEN', true]);
        assert.equal((await whoami(hs, plain.body.access_token)).status, 200);
        advance(480_000);
        assert.equal((await whoami(hs, plain.body.access_token)).body.soft_logout, true);
      } finally {
        await hs.close();
      }
    });

    test('refreshable_access_token_lifetime: null turns refresh tokens off', async () => {
      const { hs } = await startWithClock(engine, { refreshableAccessToken: null, refreshToken: null, nonrefreshableAccessToken: null });
      try {
        await registerUser(hs.baseUrl, 'frank', PASSWORD);
        const login = await loginAs(hs, 'frank', { refresh_token: true });
        assert.equal(login.status, 200);
        assert.equal(login.body.refresh_token, undefined);
        assert.equal(login.body.expires_in_ms, undefined);
      } finally {
        await hs.close();
      }
    });
  });
}
