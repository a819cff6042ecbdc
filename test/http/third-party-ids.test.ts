// The /account/3pid family and the requestToken endpoints
// (administrative_contact.yaml, registration.yaml, password_management.yaml):
// Axon validates no e-mail address or phone number itself, so adding one to
// an account is refused with the spec's errcode; binding one the client
// validated with an identity server, and unbinding it (by /unbind, /delete
// or deactivation), go to that identity server (a fake one over HTTPS here),
// on SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/storage/database.js';
import { call as callServer, registerUser as registerTestUser } from '../helpers/client.js';
import { startTestHomeserver } from '../helpers/homeserver.js';
import { startIdentityServer, type FakeIdentityServer } from '../helpers/identity-server.js';
import { createTestCa, type TestCa } from '../helpers/tls.js';
import { call, registerUser, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';
const UNSTABLE = '/_matrix/client/unstable';
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

  test('adding a 3PID to the account is 400 M_THREEPID_MEDIUM_NOT_SUPPORTED, for signed-in users only, under v3 and /unstable', async () => {
    const creds = { client_secret: 'd0nt-T3ll', sid: 'abc123987', id_server: 'id.example.org', id_access_token: 'x' };
    for (const [path, body] of [
      ['/account/3pid', { three_pid_creds: creds }],
      ['/account/3pid/add', { client_secret: creds.client_secret, sid: creds.sid }],
    ] as const) {
      for (const prefix of [V3, UNSTABLE]) {
        const res = await call(hs, 'POST', `${prefix}${path}`, body, token);
        assert.deepEqual([res.status, res.body.errcode], [400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED'], path);
        assert.match(res.body.error as string, NOT_ENABLED);
      }
      assert.equal((await call(hs, 'POST', `${V3}${path}`, body)).body.errcode, 'M_MISSING_TOKEN');
    }
  });

  test('deleting or unbinding a 3PID bound nowhere through this server answers no-support', async () => {
    for (const path of ['/account/3pid/delete', '/account/3pid/unbind']) {
      const res = await call(hs, 'POST', `${V3}${path}`, { medium: 'email', address: 'alice@example.org' }, token);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, { id_server_unbind_result: 'no-support' });
      const badMedium = await call(hs, 'POST', `${V3}${path}`, { medium: 'fax', address: '123' }, token);
      assert.deepEqual([badMedium.status, badMedium.body.errcode], [400, 'M_INVALID_PARAM']);
      const noAddress = await call(hs, 'POST', `${V3}${path}`, { medium: 'msisdn' }, token);
      assert.deepEqual([noAddress.status, noAddress.body.errcode], [400, 'M_MISSING_PARAM']);
      const badServer = await call(hs, 'POST', `${V3}${path}`, { medium: 'email', address: 'a@b.c', id_server: 'https://id.example.org/' }, token);
      assert.deepEqual([badServer.status, badServer.body.errcode], [400, 'M_INVALID_PARAM']);
      assert.match(badServer.body.error as string, /host name with an optional port/);
    }
  });
});

for (const engine of ['sqlite', 'postgres'] as Engine[]) {
  describe(`binding through identity servers (${engine})`, () => {
    let ca: TestCa;
    let ids: FakeIdentityServer;
    let hs: AccountsServer;
    before(async () => {
      ca = await createTestCa();
      ids = await startIdentityServer(ca);
      hs = await startAccountsServer({ engine, identityServerCas: [ca.certPem] });
      ids.trustHomeserver(hs.serverName, hs.signingKey);
    });
    after(async () => {
      await hs.close();
      await ids.close();
    });

    const bind = async (accessToken: string, address: string, prefix = V3) => {
      const sid = ids.validate('email', address);
      return call(hs, 'POST', `${prefix}/account/3pid/bind`, { id_server: ids.name, id_access_token: ids.accessToken, sid, client_secret: 'c-s3cret' }, accessToken);
    };

    test('bind proxies to the identity server with the id access token, and /unbind without id_server unbinds where it was bound', async () => {
      const user = await registerUser(hs, 'ursula');
      const bound = await bind(user.accessToken, 'ursula@example.org', UNSTABLE);
      assert.deepEqual([bound.status, bound.body], [200, {}]);
      assert.equal(ids.bindings.get('email\0ursula@example.org'), user.userId);
      const request = ids.requests.filter((r) => r.path === '/_matrix/identity/v2/3pid/bind').at(-1)!;
      assert.equal(request.authorization, `Bearer ${ids.accessToken}`);
      assert.deepEqual(request.body, { sid: request.body!['sid'], client_secret: 'c-s3cret', mxid: user.userId });
      // administrative_contact.yaml: GET /account/3pid lists what the homeserver associated, not identity server bindings.
      assert.deepEqual((await call(hs, 'GET', `${V3}/account/3pid`, undefined, user.accessToken)).body, { threepids: [] });

      const unbound = await call(hs, 'POST', `${UNSTABLE}/account/3pid/unbind`, { medium: 'email', address: 'ursula@example.org' }, user.accessToken);
      assert.deepEqual([unbound.status, unbound.body], [200, { id_server_unbind_result: 'success' }]);
      assert.equal(ids.bindings.has('email\0ursula@example.org'), false);
      const signed = ids.requests.filter((r) => r.path === '/_matrix/identity/v2/3pid/unbind').at(-1)!;
      assert.match(signed.authorization ?? '', new RegExp(`^X-Matrix origin="${hs.serverName}",key="ed25519:`));
      // Forgotten once unbound: there is nowhere left to unbind it from.
      const again = await call(hs, 'POST', `${V3}/account/3pid/unbind`, { medium: 'email', address: 'ursula@example.org' }, user.accessToken);
      assert.deepEqual(again.body, { id_server_unbind_result: 'no-support' });
    });

    test('/delete with an id_server unbinds an identifier bound out of band; an identity server without the binding answers no-support', async () => {
      const user = await registerUser(hs, 'olga');
      await ids.bind('email', 'olga@example.org', user.userId);
      const deleted = await call(hs, 'POST', `${V3}/account/3pid/delete`, { medium: 'email', address: 'olga@example.org', id_server: ids.name }, user.accessToken);
      assert.deepEqual([deleted.status, deleted.body], [200, { id_server_unbind_result: 'success' }]);
      assert.equal(ids.bindings.has('email\0olga@example.org'), false);
      // The fake answers 404 for a binding it does not have: the spec's "identity server refusing the request".
      const missing = await call(hs, 'POST', `${V3}/account/3pid/delete`, { medium: 'email', address: 'olga@example.org', id_server: ids.name }, user.accessToken);
      assert.deepEqual(missing.body, { id_server_unbind_result: 'no-support' });
    });

    test('deactivation unbinds every identifier the user bound through this server', async () => {
      const user = await registerUser(hs, 'dora', 'pw-dora');
      await bind(user.accessToken, 'dora@example.org');
      await bind(user.accessToken, 'dora2@example.org');
      const first = await call(hs, 'POST', `${V3}/account/deactivate`, {}, user.accessToken);
      const done = await call(
        hs,
        'POST',
        `${UNSTABLE}/account/deactivate`,
        { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dora' }, password: 'pw-dora', session: first.body.session } },
        user.accessToken,
      );
      assert.deepEqual([done.status, done.body], [200, { id_server_unbind_result: 'success' }]);
      assert.equal(ids.bindings.has('email\0dora@example.org'), false);
      assert.equal(ids.bindings.has('email\0dora2@example.org'), false);
    });

    test("the identity server's refusal reaches the client with its errcode; a bad id access token too", async () => {
      const user = await registerUser(hs, 'rita');
      const noSession = await call(hs, 'POST', `${V3}/account/3pid/bind`, { id_server: ids.name, id_access_token: ids.accessToken, sid: 'nope', client_secret: 'x' }, user.accessToken);
      assert.deepEqual([noSession.status, noSession.body.errcode], [400, 'M_NO_VALID_SESSION']);
      assert.match(noSession.body.error as string, new RegExp(`identity server ${ids.name} would not bind`));
      const sid = ids.validate('email', 'rita@example.org');
      const badToken = await call(hs, 'POST', `${V3}/account/3pid/bind`, { id_server: ids.name, id_access_token: 'wrong', sid, client_secret: 'x' }, user.accessToken);
      // 403, not the identity server's 401: the client's own access token is fine.
      assert.deepEqual([badToken.status, badToken.body.errcode], [403, 'M_UNAUTHORIZED']);
      const missing = await call(hs, 'POST', `${V3}/account/3pid/bind`, { id_server: ids.name, sid, client_secret: 'x' }, user.accessToken);
      assert.deepEqual([missing.status, missing.body.errcode], [400, 'M_MISSING_PARAM']);
    });

    test('an identity server that cannot be reached is 502, naming it', async () => {
      const user = await registerUser(hs, 'nora');
      const res = await call(hs, 'POST', `${V3}/account/3pid/bind`, { id_server: '127.0.0.1:1', id_access_token: 't', sid: 's', client_secret: 'c' }, user.accessToken);
      assert.deepEqual([res.status, res.body.errcode], [502, 'M_UNKNOWN']);
      assert.match(res.body.error as string, /Could not reach the identity server 127\.0\.0\.1:1/);
    });
  });
}

describe('identity servers and ip_range_blacklist', () => {
  test('an identity server in a blacklisted range is refused before any connection', async () => {
    const ca = await createTestCa();
    const ids = await startIdentityServer(ca);
    const hs = await startAccountsServer({ identityServerCas: [ca.certPem], ipRangeBlacklist: ['127.0.0.0/8'] });
    try {
      const user = await registerUser(hs, 'bea');
      const sid = ids.validate('email', 'bea@example.org');
      const res = await call(hs, 'POST', `${V3}/account/3pid/bind`, { id_server: ids.name, id_access_token: ids.accessToken, sid, client_secret: 'c' }, user.accessToken);
      assert.equal(res.status, 502);
      assert.match(res.body.error as string, /blocked by ip_range_blacklist/);
      assert.equal(ids.requests.length, 0);
    } finally {
      await hs.close();
      await ids.close();
    }
  });
});

describe('identity servers and TLS', () => {
  test("an identity server's certificate is verified, unless use_insecure_ssl_client_just_for_testing_do_not_use", async () => {
    const ids = await startIdentityServer(await createTestCa('A CA nobody trusts'));
    const strict = await startTestHomeserver();
    const insecure = await startTestHomeserver({ config: { insecureClientTls: true } });
    try {
      for (const [hs, expected] of [[strict, 502], [insecure, 200]] as const) {
        const user = await registerTestUser(hs.baseUrl, 'tina');
        const sid = ids.validate('email', `tina${expected}@example.org`);
        const res = await callServer(hs.baseUrl, 'POST', `${V3}/account/3pid/bind`, { id_server: ids.name, id_access_token: ids.accessToken, sid, client_secret: 'c' }, user.accessToken);
        assert.equal(res.status, expected, JSON.stringify(res.body));
        if (expected === 502) assert.match(res.body.error as string, /certificate/);
      }
    } finally {
      await strict.close();
      await insecure.close();
      await ids.close();
    }
  });
});
