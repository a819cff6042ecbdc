import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

describe('OpenID tokens', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let now = 1_800_000_000_000;

  before(async () => {
    hs = await startTestHomeserver({ clock: () => now });
    alice = await registerUser(hs.baseUrl, 'alice');
  });
  after(async () => hs.close());

  const userinfo = (token: string) => call(hs.baseUrl, 'GET', `/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token)}`);

  test('a token requested by the user resolves to them over federation until it expires', async () => {
    const res = await call(hs.baseUrl, 'POST', `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/openid/request_token`, {}, alice.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.matrix_server_name, hs.config.serverName);
    assert.equal(res.body.expires_in, 3600);
    const token = res.body.access_token as string;
    assert.ok(token.length >= 32);

    assert.deepEqual((await userinfo(token)).body, { sub: alice.userId });
    now += 3600 * 1000;
    const expired = await userinfo(token);
    assert.deepEqual([expired.status, expired.body.errcode], [401, 'M_UNKNOWN_TOKEN']);
  });

  test('unknown or missing tokens are 401 M_UNKNOWN_TOKEN', async () => {
    const unknown = await userinfo('not-a-token');
    assert.deepEqual([unknown.status, unknown.body.errcode], [401, 'M_UNKNOWN_TOKEN']);
    const missing = await call(hs.baseUrl, 'GET', '/_matrix/federation/v1/openid/userinfo');
    assert.deepEqual([missing.status, missing.body.errcode], [401, 'M_UNKNOWN_TOKEN']);
  });

  test('users can only request tokens for themselves', async () => {
    const res = await call(hs.baseUrl, 'POST', `/_matrix/client/v3/user/${encodeURIComponent('@bob:elsewhere')}/openid/request_token`, {}, alice.accessToken);
    assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
  });
});
