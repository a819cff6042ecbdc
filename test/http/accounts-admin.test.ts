import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { call, registerUser, SHARED_SECRET, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const REGISTER = '/_synapse/admin/v1/register';
const TOKENS = '/_synapse/admin/v1/registration_tokens';

/** Computed independently of the server's code, the way register_new_matrix_user does. */
function mac(nonce: string, user: string, password: string, admin: boolean, secret = SHARED_SECRET): string {
  const h = createHmac('sha1', secret);
  for (const part of [nonce, '\0', user, '\0', password, '\0', admin ? 'admin' : 'notadmin']) h.update(part);
  return h.digest('hex');
}

describe('Synapse admin APIs over HTTP', () => {
  let hs: AccountsServer;
  let adminToken: string;
  before(async () => {
    hs = await startAccountsServer();
    const nonce = (await call(hs, 'GET', REGISTER)).body.nonce as string;
    const res = await call(hs, 'POST', REGISTER, { nonce, username: 'root', password: 'pw', admin: true, mac: mac(nonce, 'root', 'pw', true) });
    adminToken = res.body.access_token as string;
  });
  after(async () => hs.close());

  test('shared-secret registration creates the user and logs it in; nonces are single use', async () => {
    const nonce = (await call(hs, 'GET', REGISTER)).body.nonce as string;
    const body = { nonce, username: 'scripted', password: 'pw', admin: false, mac: mac(nonce, 'scripted', 'pw', false) };
    const res = await call(hs, 'POST', REGISTER, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, '@scripted:test.local');
    assert.equal(res.body.home_server, 'test.local');
    assert.equal(typeof res.body.device_id, 'string');
    const whoami = await call(hs, 'GET', '/_matrix/client/v3/account/whoami', undefined, res.body.access_token as string);
    assert.equal(whoami.body.user_id, '@scripted:test.local');
    const replay = await call(hs, 'POST', REGISTER, body);
    assert.equal(replay.status, 400);
  });

  test('a wrong MAC is 403 M_FORBIDDEN; a taken name M_USER_IN_USE; a bad one M_INVALID_USERNAME', async () => {
    let nonce = (await call(hs, 'GET', REGISTER)).body.nonce as string;
    const wrong = await call(hs, 'POST', REGISTER, { nonce, username: 'x', password: 'pw', mac: mac(nonce, 'x', 'pw', true) });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    nonce = (await call(hs, 'GET', REGISTER)).body.nonce as string;
    const taken = await call(hs, 'POST', REGISTER, { nonce, username: 'root', password: 'pw', mac: mac(nonce, 'root', 'pw', false) });
    assert.equal(taken.body.errcode, 'M_USER_IN_USE');
    nonce = (await call(hs, 'GET', REGISTER)).body.nonce as string;
    const bad = await call(hs, 'POST', REGISTER, { nonce, username: 'a b', password: 'pw', mac: mac(nonce, 'a b', 'pw', false) });
    assert.equal(bad.body.errcode, 'M_INVALID_USERNAME');
  });

  test('without a shared secret configured the API answers 400 with a clear message', async () => {
    const plain = await startAccountsServer({ config: { registrationSharedSecret: undefined } });
    try {
      const res = await call(plain, 'GET', REGISTER);
      assert.equal(res.status, 400);
      assert.match(res.body.error as string, /registration_shared_secret/);
      const post = await call(plain, 'POST', REGISTER, { nonce: 'n', username: 'u', password: 'p', mac: 'm' });
      assert.equal(post.status, 400);
    } finally {
      await plain.close();
    }
  });

  test('registration tokens API needs an admin', async () => {
    const user = await registerUser(hs, 'plainuser');
    const res = await call(hs, 'GET', TOKENS, undefined, user.accessToken);
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, { errcode: 'M_FORBIDDEN', error: 'You are not a server admin' });
  });

  test('registration tokens: create, list with valid filter, get, update, delete', async () => {
    const created = await call(hs, 'POST', `${TOKENS}/new`, { token: 'abc_1', uses_allowed: 1 }, adminToken);
    assert.deepEqual(created.body, { token: 'abc_1', uses_allowed: 1, pending: 0, completed: 0, expiry_time: null });
    const generated = await call(hs, 'POST', `${TOKENS}/new`, { length: 20 }, adminToken);
    assert.match(generated.body.token as string, /^[A-Za-z0-9._~-]{20}$/);
    const defaulted = await call(hs, 'POST', `${TOKENS}/new`, {}, adminToken);
    assert.equal((defaulted.body.token as string).length, 16);

    assert.equal((await call(hs, 'PUT', `${TOKENS}/abc_1`, { uses_allowed: 0 }, adminToken)).body.uses_allowed, 0);
    const invalid = await call(hs, 'GET', `${TOKENS}?valid=false`, undefined, adminToken);
    assert.deepEqual((invalid.body.registration_tokens as Array<{ token: string }>).map((t) => t.token), ['abc_1']);
    const valid = await call(hs, 'GET', `${TOKENS}?valid=true`, undefined, adminToken);
    assert.equal((valid.body.registration_tokens as unknown[]).length, 2);
    assert.equal(((await call(hs, 'GET', TOKENS, undefined, adminToken)).body.registration_tokens as unknown[]).length, 3);

    const future = Date.now() + 3_600_000;
    const updated = await call(hs, 'PUT', `${TOKENS}/abc_1`, { uses_allowed: null, expiry_time: future }, adminToken);
    assert.deepEqual(updated.body, { token: 'abc_1', uses_allowed: null, pending: 0, completed: 0, expiry_time: future });
    assert.deepEqual((await call(hs, 'GET', `${TOKENS}/abc_1`, undefined, adminToken)).body, updated.body);

    assert.equal((await call(hs, 'DELETE', `${TOKENS}/abc_1`, {}, adminToken)).status, 200);
    for (const method of ['GET', 'DELETE', 'PUT'] as const) {
      const gone = await call(hs, method, `${TOKENS}/abc_1`, method === 'GET' ? undefined : {}, adminToken);
      assert.equal(gone.status, 404, method);
      assert.equal(gone.body.errcode, 'M_NOT_FOUND', method);
    }
  });

  test('registration token validation errors are M_INVALID_PARAM', async () => {
    const cases: unknown[] = [
      { token: 'has space' },
      { token: 'x'.repeat(65) },
      { length: 0 },
      { length: 65 },
      { uses_allowed: -1 },
      { expiry_time: 1000 },
      { token: 'dup' },
    ];
    await call(hs, 'POST', `${TOKENS}/new`, { token: 'dup' }, adminToken);
    for (const body of cases) {
      const res = await call(hs, 'POST', `${TOKENS}/new`, body, adminToken);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.errcode, 'M_INVALID_PARAM', JSON.stringify(body));
    }
  });
});
