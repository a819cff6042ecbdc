import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.js';
import { call, registerUser, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';

for (const engine of ENGINES) {
  describe(`register, login and whoami over HTTP: ${engine}`, () => {
    let hs: AccountsServer;
    before(async () => (hs = await startAccountsServer({ engine })));
    after(async () => hs.close());

    test('registration goes through UIA, then login works with localpart, MXID and the legacy user field', async () => {
      const challenge = await call(hs, 'POST', `${V3}/register`, { username: 'Alice', password: 'pw-alice' });
      assert.equal(challenge.status, 401);
      assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.dummy'] }]);
      assert.deepEqual(challenge.body.completed, []);
      assert.equal(challenge.body.errcode, undefined, 'the first challenge carries no errcode');
      assert.equal(typeof challenge.body.session, 'string');

      const done = await call(hs, 'POST', `${V3}/register`, {
        username: 'Alice',
        password: 'pw-alice',
        initial_device_display_name: 'laptop',
        auth: { type: 'm.login.dummy', session: challenge.body.session },
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.user_id, '@alice:test.local');
      assert.equal(done.body.home_server, 'test.local');
      assert.match(done.body.access_token as string, /^axo_[A-Za-z0-9_-]{43}$/);

      const whoami = await call(hs, 'GET', `${V3}/account/whoami`, undefined, done.body.access_token as string);
      assert.deepEqual(whoami.body, { user_id: '@alice:test.local', device_id: done.body.device_id, is_guest: false });

      const byLocalpart = await call(hs, 'POST', `${V3}/login`, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'alice' },
        password: 'pw-alice',
      });
      assert.equal(byLocalpart.status, 200);
      assert.equal(byLocalpart.body.user_id, '@alice:test.local');
      assert.equal(byLocalpart.body.home_server, 'test.local');
      assert.notEqual(byLocalpart.body.device_id, done.body.device_id);

      const byMxid = await call(hs, 'POST', `${V3}/login`, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: '@alice:test.local' },
        password: 'pw-alice',
      });
      assert.equal(byMxid.status, 200);
      const legacy = await call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', user: 'alice', password: 'pw-alice' });
      assert.equal(legacy.status, 200);

      const r0 = await call(hs, 'GET', '/_matrix/client/r0/account/whoami', undefined, legacy.body.access_token as string);
      assert.equal(r0.body.user_id, '@alice:test.local');
    });

    test('logging in again with a device ID reuses the device and revokes its earlier token', async () => {
      await registerUser(hs, 'bob', 'pw-bob');
      const login = (deviceId: string) =>
        call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'pw-bob', device_id: deviceId });
      const first = await login('PHONE');
      const second = await login('PHONE');
      assert.equal(second.body.device_id, 'PHONE');
      assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, first.body.access_token as string)).status, 401);
      assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, second.body.access_token as string)).status, 200);
    });

    test('wrong password and unknown user are both 403 M_FORBIDDEN', async () => {
      await registerUser(hs, 'carol', 'pw-carol');
      for (const [user, password] of [['carol', 'wrong'], ['nobody', 'pw-carol']]) {
        const res = await call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' });
      }
    });
  });
}

describe('login and logout over HTTP', () => {
  let hs: AccountsServer;
  before(async () => (hs = await startAccountsServer()));
  after(async () => hs.close());

  test('GET /login offers password login', async () => {
    const res = await call(hs, 'GET', `${V3}/login`);
    assert.deepEqual(res.body, { flows: [{ type: 'm.login.password' }] });
  });

  test('unsupported login and identifier types are 400 M_UNKNOWN; missing password is M_MISSING_PARAM', async () => {
    const jwt = await call(hs, 'POST', `${V3}/login`, { type: 'org.matrix.login.jwt', token: 'x' });
    assert.equal(jwt.status, 400);
    assert.equal(jwt.body.errcode, 'M_UNKNOWN');
    const threepid = await call(hs, 'POST', `${V3}/login`, {
      type: 'm.login.password',
      identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' },
      password: 'x',
    });
    assert.equal(threepid.body.errcode, 'M_UNKNOWN');
    const missing = await call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', user: 'x' });
    assert.equal(missing.body.errcode, 'M_MISSING_PARAM');
  });

  test('a deactivated account with the right password is told M_USER_DEACTIVATED', async () => {
    const dave = await registerUser(hs, 'dave', 'pw-dave');
    const auth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dave' }, password: 'pw-dave' };
    const first = await call(hs, 'POST', `${V3}/account/deactivate`, {}, dave.accessToken);
    assert.equal(first.status, 401);
    assert.deepEqual(first.body.flows, [{ stages: ['m.login.password'] }]);
    const done = await call(hs, 'POST', `${V3}/account/deactivate`, { auth: { ...auth, session: first.body.session } }, dave.accessToken);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    // account_deactivation.yaml: "success" when the homeserver has no identifiers to unbind.
    assert.deepEqual(done.body, { id_server_unbind_result: 'success' });
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, dave.accessToken)).body.errcode, 'M_UNKNOWN_TOKEN');
    const login = await call(hs, 'POST', `${V3}/login`, auth);
    assert.equal(login.status, 403);
    assert.equal(login.body.errcode, 'M_USER_DEACTIVATED');
    const wrong = await call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', identifier: auth.identifier, password: 'nope' });
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    const profile = await call(hs, 'GET', `${V3}/profile/${encodeURIComponent(dave.userId)}`);
    assert.deepEqual(profile.body, {}, 'deactivation clears the profile');
  });

  test('logout removes the token and its device; logout/all removes every one', async () => {
    const erin = await registerUser(hs, 'erin', 'pw-erin');
    const login = async () =>
      (await call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', user: 'erin', password: 'pw-erin' })).body.access_token as string;
    const second = await login();
    assert.equal((await call(hs, 'POST', `${V3}/logout`, {}, erin.accessToken)).status, 200);
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, erin.accessToken)).status, 401);
    const devices = await call(hs, 'GET', `${V3}/devices`, undefined, second);
    assert.equal((devices.body.devices as unknown[]).length, 1);
    const third = await login();
    assert.equal((await call(hs, 'POST', `${V3}/logout/all`, {}, third)).status, 200);
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, second)).status, 401);
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, third)).status, 401);
  });

  test('repeated failed logins for one account are rate limited', async () => {
    const limited = await startAccountsServer({
      rateLimits: {
        login: {
          address: { perSecond: 1000, burstCount: 1000 },
          account: { perSecond: 1000, burstCount: 1000 },
          failedAttempts: { perSecond: 0.001, burstCount: 2 },
        },
      },
    });
    try {
      await registerUser(limited, 'frank', 'pw-frank');
      const attempt = (password: string) => call(limited, 'POST', `${V3}/login`, { type: 'm.login.password', user: 'frank', password });
      assert.equal((await attempt('bad')).status, 403);
      assert.equal((await attempt('bad')).status, 403);
      const third = await attempt('pw-frank');
      assert.equal(third.status, 429);
      assert.equal(third.body.errcode, 'M_LIMIT_EXCEEDED');
      assert.equal(typeof third.body.retry_after_ms, 'number');
    } finally {
      await limited.close();
    }
  });
});
