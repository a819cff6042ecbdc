import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

describe('third-party lookups without bridges', () => {
  let hs: TestHomeserver;
  let alice: TestUser;

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
  });
  after(async () => hs.close());

  const get = (path: string) => call<unknown>(hs.baseUrl, 'GET', `/_matrix/client/v3/thirdparty/${path}`, undefined, alice.accessToken);

  test('no protocols are known', async () => {
    assert.deepEqual(await get('protocols').then((r) => [r.status, r.body]), [200, {}]);
    for (const path of ['protocol/irc', 'location/irc?channel=x', 'user/irc?nick=x']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.equal((res.body as { errcode: string }).errcode, 'M_NOT_FOUND', path);
    }
  });

  test('general lookups find nothing', async () => {
    assert.deepEqual(await get('location?alias=%23irc_x%3Ahs').then((r) => [r.status, r.body]), [200, []]);
    assert.deepEqual(await get('user?userid=%40irc_x%3Ahs').then((r) => [r.status, r.body]), [200, []]);
  });

  test('authentication is required', async () => {
    assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v3/thirdparty/protocols')).status, 401);
  });
});
