// The /account/3pid family and the requestToken endpoints: Axon binds no
// e-mail address or phone number, so each answers its spec's refusal
// (administrative_contact.yaml, registration.yaml, password_management.yaml).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';
const EMAIL = { client_secret: 'd0nt-T3ll', email: 'alice@example.org', send_attempt: 1 };
const PHONE = { client_secret: 'd0nt-T3ll', country: 'GB', phone_number: '07700900001', send_attempt: 1 };
const NOT_ENABLED = /E-mail and phone identifiers are not enabled on this server/;

describe('third-party identifiers over HTTP', () => {
  let hs: AccountsServer;
  let token: string;
  before(async () => {
    hs = await startAccountsServer();
    token = (await registerUser(hs, 'tess', 'pw-tess')).accessToken;
  });
  after(async () => hs.close());

  test('registration and password-reset tokens are 403 M_THREEPID_DENIED, the only refusal their spec offers', async () => {
    for (const prefix of ['/register', '/account/password']) {
      for (const [medium, body] of [['email', EMAIL], ['msisdn', PHONE]] as const) {
        const res = await call(hs, 'POST', `${V3}${prefix}/${medium}/requestToken`, body);
        assert.equal(res.status, 403, `${prefix}/${medium}`);
        assert.equal(res.body.errcode, 'M_THREEPID_DENIED');
        assert.match(res.body.error as string, NOT_ENABLED);
      }
    }
  });

  test('tokens to add a 3PID to the account are 400 M_THREEPID_MEDIUM_NOT_SUPPORTED', async () => {
    const email = await call(hs, 'POST', `${V3}/account/3pid/email/requestToken`, EMAIL);
    assert.deepEqual([email.status, email.body.errcode], [400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED']);
    assert.match(email.body.error as string, /e-mail addresses cannot be added/);
    const phone = await call(hs, 'POST', `${V3}/account/3pid/msisdn/requestToken`, PHONE);
    assert.deepEqual([phone.status, phone.body.errcode], [400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED']);
    assert.match(phone.body.error as string, /phone numbers cannot be added/);
  });

  test('adding or binding a 3PID is 400 M_THREEPID_MEDIUM_NOT_SUPPORTED, for signed-in users only', async () => {
    const creds = { client_secret: 'd0nt-T3ll', sid: 'abc123987', id_server: 'id.example.org', id_access_token: 'x' };
    for (const [path, body] of [
      ['/account/3pid', { three_pid_creds: creds }],
      ['/account/3pid/add', { client_secret: creds.client_secret, sid: creds.sid }],
      ['/account/3pid/bind', creds],
    ] as const) {
      const res = await call(hs, 'POST', `${V3}${path}`, body, token);
      assert.deepEqual([res.status, res.body.errcode], [400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED'], path);
      assert.match(res.body.error as string, NOT_ENABLED);
      assert.equal((await call(hs, 'POST', `${V3}${path}`, body)).body.errcode, 'M_MISSING_TOKEN');
    }
  });

  test('deleting or unbinding a 3PID the account does not have succeeds with nothing to unbind', async () => {
    for (const path of ['/account/3pid/delete', '/account/3pid/unbind']) {
      const res = await call(hs, 'POST', `${V3}${path}`, { medium: 'email', address: 'alice@example.org', id_server: 'id.example.org' }, token);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, { id_server_unbind_result: 'no-support' });
      const badMedium = await call(hs, 'POST', `${V3}${path}`, { medium: 'fax', address: '123' }, token);
      assert.deepEqual([badMedium.status, badMedium.body.errcode], [400, 'M_INVALID_PARAM']);
      const noAddress = await call(hs, 'POST', `${V3}${path}`, { medium: 'msisdn' }, token);
      assert.deepEqual([noAddress.status, noAddress.body.errcode], [400, 'M_MISSING_PARAM']);
    }
  });
});
