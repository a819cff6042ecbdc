// m.login.token and POST /login/get_token (login_token.yaml), behind
// Synapse's login_via_existing_session (disabled by default).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoginViaExistingSessionConfig } from '../../src/config/types.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserverWithClock, type TestHomeserver } from '../helpers/homeserver.js';

const PASSWORD = 'correct horse battery';
const GET_TOKEN = '/_matrix/client/v1/login/get_token';
const V3 = '/_matrix/client/v3';

const start = (engine: (typeof ENGINES)[number], loginViaExistingSession?: LoginViaExistingSessionConfig) =>
  startTestHomeserverWithClock({ engine, ...(loginViaExistingSession ? { config: { loginViaExistingSession } } : {}) });

const tokenLogin = (hs: TestHomeserver, token: unknown) => call(hs.baseUrl, 'POST', `${V3}/login`, { type: 'm.login.token', token });
const capability = async (hs: TestHomeserver, user: TestUser) =>
  ((await call(hs.baseUrl, 'GET', `${V3}/capabilities`, undefined, user.accessToken)).body.capabilities as Record<string, unknown>)['m.get_login_token'];

/** get_token through m.login.password UIA. */
async function getToken(hs: TestHomeserver, user: TestUser) {
  const challenge = await call(hs.baseUrl, 'POST', GET_TOKEN, {}, user.accessToken);
  assert.equal(challenge.status, 401, JSON.stringify(challenge.body));
  assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.password'] }]);
  const auth = { type: 'm.login.password', session: challenge.body.session, identifier: { type: 'm.id.user', user: user.userId }, password: PASSWORD };
  return call(hs.baseUrl, 'POST', GET_TOKEN, { auth }, user.accessToken);
}

for (const engine of ENGINES) {
  describe(`login via an existing session, disabled as by default (${engine})`, () => {
    let hs: TestHomeserver;
    before(async () => ({ hs } = await start(engine)));
    after(async () => hs.close());

    test("get_token is the spec's 400 (not Synapse's 404: the endpoint exists); neither /login nor /capabilities offer it", async () => {
      const alice = await registerUser(hs.baseUrl, 'alice', PASSWORD);
      const res = await call(hs.baseUrl, 'POST', GET_TOKEN, {}, alice.accessToken);
      assert.equal(res.status, 400);
      assert.match(String(res.body.error), /login_via_existing_session/);
      assert.deepEqual((await call(hs.baseUrl, 'GET', `${V3}/login`)).body, { flows: [{ type: 'm.login.password' }] });
      assert.deepEqual(await capability(hs, alice), { enabled: false });
      const bogus = await tokenLogin(hs, 'axl_nothing');
      assert.deepEqual([bogus.status, bogus.body.errcode], [403, 'M_FORBIDDEN']);
    });
  });

  describe(`login via an existing session, enabled (${engine})`, () => {
    let hs: TestHomeserver;
    let advance: (ms: number) => void;
    before(async () => ({ hs, advance } = await start(engine, { enabled: true, requireUiAuth: true, tokenTimeoutMs: 120_000 })));
    after(async () => hs.close());

    test('/login and /capabilities offer it', async () => {
      const alice = await registerUser(hs.baseUrl, 'alice', PASSWORD);
      assert.deepEqual((await call(hs.baseUrl, 'GET', `${V3}/login`)).body, {
        flows: [{ type: 'm.login.password' }, { type: 'm.login.token', get_login_token: true }],
      });
      assert.deepEqual(await capability(hs, alice), { enabled: true });
    });

    test('a token from get_token (after the password) logs a new device in once', async () => {
      const bob = await registerUser(hs.baseUrl, 'bob', PASSWORD);
      const issued = await getToken(hs, bob);
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.expires_in_ms, 120_000);
      const login = await call(hs.baseUrl, 'POST', `${V3}/login`, { type: 'm.login.token', token: issued.body.login_token, initial_device_display_name: 'new phone' });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      assert.equal(login.body.user_id, bob.userId);
      assert.notEqual(login.body.device_id, bob.deviceId);
      const device = await call(hs.baseUrl, 'GET', `${V3}/devices/${login.body.device_id as string}`, undefined, login.body.access_token as string);
      assert.equal(device.body.display_name, 'new phone');
      const again = await tokenLogin(hs, issued.body.login_token);
      assert.deepEqual([again.status, again.body.errcode], [403, 'M_FORBIDDEN'], 'a login token is single use');
      assert.equal((await tokenLogin(hs, undefined)).body.errcode, 'M_MISSING_PARAM');
    });

    test('one token a minute per user, counted after UIA; tokens expire after token_timeout', async () => {
      const carol = await registerUser(hs.baseUrl, 'carol', PASSWORD);
      const first = await getToken(hs, carol);
      assert.equal(first.status, 200);
      const wrongPassword = await call(hs.baseUrl, 'POST', GET_TOKEN, {}, carol.accessToken);
      assert.equal(wrongPassword.status, 401, 'the challenge itself is not throttled');
      const second = await getToken(hs, carol);
      assert.deepEqual([second.status, second.body.errcode], [429, 'M_LIMIT_EXCEEDED']);
      advance(120_000);
      const expired = await tokenLogin(hs, first.body.login_token);
      assert.deepEqual([expired.status, expired.body.errcode], [403, 'M_FORBIDDEN']);
      const later = await getToken(hs, carol);
      assert.equal(later.status, 200, 'a minute later another token may be issued');
    });

    test('a deactivated account cannot log in with a token issued before', async () => {
      const dave = await registerUser(hs.baseUrl, 'dave', PASSWORD);
      const issued = await getToken(hs, dave);
      const auth = (session: unknown) => ({ type: 'm.login.password', session, identifier: { type: 'm.id.user', user: dave.userId }, password: PASSWORD });
      const challenge = await call(hs.baseUrl, 'POST', `${V3}/account/deactivate`, {}, dave.accessToken);
      assert.equal((await call(hs.baseUrl, 'POST', `${V3}/account/deactivate`, { auth: auth(challenge.body.session) }, dave.accessToken)).status, 200);
      const login = await tokenLogin(hs, issued.body.login_token);
      assert.deepEqual([login.status, login.body.errcode], [403, 'M_USER_DEACTIVATED']);
    });
  });

  describe(`login_via_existing_session.require_ui_auth: false (${engine})`, () => {
    test('get_token answers at once', async () => {
      const { hs } = await start(engine, { enabled: true, requireUiAuth: false, tokenTimeoutMs: 300_000 });
      try {
        const erin = await registerUser(hs.baseUrl, 'erin', PASSWORD);
        const issued = await call(hs.baseUrl, 'POST', GET_TOKEN, {}, erin.accessToken);
        assert.equal(issued.status, 200, JSON.stringify(issued.body));
        assert.equal(issued.body.expires_in_ms, 300_000);
        assert.equal((await tokenLogin(hs, issued.body.login_token)).body.user_id, erin.userId);
      } finally {
        await hs.close();
      }
    });
  });
}
