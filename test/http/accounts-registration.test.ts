import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';
const VALIDITY = '/_matrix/client/v1/register/m.login.registration_token/validity';

describe('registration over HTTP', () => {
  let hs: AccountsServer;
  before(async () => (hs = await startAccountsServer()));
  after(async () => hs.close());

  test('bad usernames are M_INVALID_USERNAME, taken ones M_USER_IN_USE, before any UIA', async () => {
    await registerUser(hs, 'taken');
    for (const username of ['bad name', 'émile', '', 'x'.repeat(250)]) {
      const res = await call(hs, 'POST', `${V3}/register`, { username, password: 'pw' });
      assert.equal(res.status, 400, username);
      assert.equal(res.body.errcode, 'M_INVALID_USERNAME', username);
    }
    const taken = await call(hs, 'POST', `${V3}/register`, { username: 'Taken', password: 'pw' });
    assert.equal(taken.status, 400);
    assert.equal(taken.body.errcode, 'M_USER_IN_USE');
  });

  test('GET /register/available', async () => {
    await registerUser(hs, 'someone');
    assert.deepEqual((await call(hs, 'GET', `${V3}/register/available?username=free_name`)).body, { available: true });
    assert.equal((await call(hs, 'GET', `${V3}/register/available?username=someone`)).body.errcode, 'M_USER_IN_USE');
    assert.equal((await call(hs, 'GET', `${V3}/register/available?username=no%20spaces`)).body.errcode, 'M_INVALID_USERNAME');
    assert.equal((await call(hs, 'GET', `${V3}/register/available`)).body.errcode, 'M_MISSING_PARAM');
  });

  test('without a username a numeric localpart is generated; displayname defaults to the localpart', async () => {
    const first = await call(hs, 'POST', `${V3}/register`, { password: 'pw' });
    const done = await call(hs, 'POST', `${V3}/register`, { password: 'pw', auth: { type: 'm.login.dummy', session: first.body.session } });
    assert.match(done.body.user_id as string, /^@\d+:test\.local$/);
    const localpart = (done.body.user_id as string).slice(1).split(':')[0];
    const profile = await call(hs, 'GET', `${V3}/profile/${encodeURIComponent(done.body.user_id as string)}`);
    assert.deepEqual(profile.body, { displayname: localpart });
  });

  test('inhibit_login returns only the user ID', async () => {
    const first = await call(hs, 'POST', `${V3}/register`, { username: 'quiet', password: 'pw', inhibit_login: true });
    const done = await call(hs, 'POST', `${V3}/register`, {
      username: 'quiet',
      password: 'pw',
      inhibit_login: true,
      auth: { type: 'm.login.dummy', session: first.body.session },
    });
    assert.deepEqual(done.body, { user_id: '@quiet:test.local', home_server: 'test.local' });
  });

  test('UIA: unknown session is 400, a stage not offered is a 401 with an errcode, a password is required at the end', async () => {
    const unknown = await call(hs, 'POST', `${V3}/register`, { username: 'u1', password: 'pw', auth: { type: 'm.login.dummy', session: 'nope' } });
    assert.equal(unknown.status, 400);
    const first = await call(hs, 'POST', `${V3}/register`, { username: 'u1' });
    const wrongStage = await call(hs, 'POST', `${V3}/register`, {
      username: 'u1',
      auth: { type: 'm.login.registration_token', token: 'x', session: first.body.session },
    });
    assert.equal(wrongStage.status, 401);
    assert.equal(wrongStage.body.errcode, 'M_UNRECOGNIZED');
    assert.equal(wrongStage.body.session, first.body.session);
    const noPassword = await call(hs, 'POST', `${V3}/register`, { username: 'u1', auth: { type: 'm.login.dummy', session: first.body.session } });
    assert.equal(noPassword.status, 400);
    assert.equal(noPassword.body.errcode, 'M_MISSING_PARAM');
    // The session's completed stage survives the failed request, so the retry succeeds.
    const retry = await call(hs, 'POST', `${V3}/register`, { username: 'u1', password: 'pw', auth: { session: first.body.session } });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
  });

  test('kind=guest is M_GUEST_ACCESS_FORBIDDEN unless guest access is allowed; bad kind is M_INVALID_PARAM', async () => {
    const res = await call(hs, 'POST', `${V3}/register?kind=guest`, {});
    assert.equal(res.status, 403);
    assert.equal(res.body.errcode, 'M_GUEST_ACCESS_FORBIDDEN');
    assert.equal((await call(hs, 'POST', `${V3}/register?kind=robot`, {})).body.errcode, 'M_INVALID_PARAM');
  });
});

describe('registration settings', () => {
  test('registration disabled: 403 M_FORBIDDEN for register, availability and token validity', async () => {
    const hs = await startAccountsServer({ config: { enableRegistration: false } });
    try {
      for (const [method, path] of [
        ['POST', `${V3}/register`],
        ['GET', `${V3}/register/available?username=x`],
        ['GET', `${VALIDITY}?token=abc`],
      ] as const) {
        const res = await call(hs, method, path, method === 'POST' ? { username: 'x', password: 'pw' } : undefined);
        assert.equal(res.status, 403, path);
        assert.equal(res.body.errcode, 'M_FORBIDDEN', path);
      }
    } finally {
      await hs.close();
    }
  });

  test('guest registration when allowed: numeric ID, is_guest, no password login', async () => {
    const hs = await startAccountsServer({ config: { allowGuestAccess: true } });
    try {
      const res = await call(hs, 'POST', `${V3}/register?kind=guest`, {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.match(res.body.user_id as string, /^@\d+:test\.local$/);
      const whoami = await call(hs, 'GET', `${V3}/account/whoami`, undefined, res.body.access_token as string);
      assert.equal(whoami.body.is_guest, true);
    } finally {
      await hs.close();
    }
  });

  test('registration_requires_token: token flow, invalid token retry, token consumed on completion', async () => {
    const hs = await startAccountsServer({ config: { registrationRequiresToken: true } });
    try {
      const stores = hs.services.context.stores;
      await stores.registrationTokens.create('once', 1, null);
      assert.deepEqual((await call(hs, 'GET', `${VALIDITY}?token=once`)).body, { valid: true });
      assert.deepEqual((await call(hs, 'GET', `${VALIDITY}?token=never`)).body, { valid: false });
      assert.equal((await call(hs, 'GET', VALIDITY)).body.errcode, 'M_MISSING_PARAM');

      const first = await call(hs, 'POST', `${V3}/register`, { username: 'tok', password: 'pw' });
      assert.deepEqual(first.body.flows, [{ stages: ['m.login.registration_token'] }]);
      const dummy = await call(hs, 'POST', `${V3}/register`, { username: 'tok', password: 'pw', auth: { type: 'm.login.dummy', session: first.body.session } });
      assert.equal(dummy.status, 401);
      const bad = await call(hs, 'POST', `${V3}/register`, {
        username: 'tok',
        password: 'pw',
        auth: { type: 'm.login.registration_token', token: 'never', session: first.body.session },
      });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.errcode, 'M_UNAUTHORIZED');
      const good = await call(hs, 'POST', `${V3}/register`, {
        username: 'tok',
        password: 'pw',
        auth: { type: 'm.login.registration_token', token: 'once', session: first.body.session },
      });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.deepEqual(await stores.registrationTokens.get('once'), { token: 'once', usesAllowed: 1, pending: 0, completed: 1, expiryTime: null });
      assert.deepEqual((await call(hs, 'GET', `${VALIDITY}?token=once`)).body, { valid: false });
    } finally {
      await hs.close();
    }
  });

  test('no usable flow (no token, verification required) is 403 M_FORBIDDEN', async () => {
    const hs = await startAccountsServer({ config: { enableRegistrationWithoutVerification: false } });
    try {
      const res = await call(hs, 'POST', `${V3}/register`, { username: 'x', password: 'pw' });
      assert.equal(res.status, 403);
      assert.match(res.body.error as string, /enable_registration_without_verification/);
    } finally {
      await hs.close();
    }
  });
});
