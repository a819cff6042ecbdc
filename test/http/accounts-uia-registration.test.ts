// Registration through user-interactive auth as Synapse does it: the session
// remembers the first request's parameters, a completed session replays to
// the same account, inhibit_login, and a guest upgrading to a full account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.js';
import { call, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';

for (const engine of ENGINES) {
  describe(`registration UIA sessions over HTTP: ${engine}`, () => {
    let hs: AccountsServer;
    before(async () => (hs = await startAccountsServer({ engine, config: { allowGuestAccess: true } })));
    after(async () => hs.close());

    const register = (body: Record<string, unknown>, query = '') => call(hs, 'POST', `${V3}/register${query}`, body);
    const dummy = (session: unknown) => ({ type: 'm.login.dummy', session });
    const login = (user: string, password: string) => call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

    test('the completing request may carry only auth: username, password, device and its name come from the first', async () => {
      const first = await register({ username: 'remembered', password: 'pw-remembered', device_id: 'XYZZY', initial_device_display_name: 'display name' });
      assert.equal(first.status, 401);
      const done = await register({ auth: dummy(first.body.session) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.user_id, '@remembered:test.local');
      assert.equal(done.body.device_id, 'XYZZY');
      const device = await call(hs, 'GET', `${V3}/devices/XYZZY`, undefined, done.body.access_token as string);
      assert.equal(device.body.display_name, 'display name');
      assert.equal((await login('remembered', 'pw-remembered')).status, 200, 'the first request\u2019s password was kept (as a hash)');
    });

    test('a display name sent alone with auth does not wipe out the remembered parameters', async () => {
      const first = await register({ username: 'kept', password: 'pw-kept', initial_device_display_name: 'first name' });
      const done = await register({ initial_device_display_name: 'stray', auth: dummy(first.body.session) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.user_id, '@kept:test.local');
      const device = await call(hs, 'GET', `${V3}/devices/${done.body.device_id as string}`, undefined, done.body.access_token as string);
      assert.equal(device.body.display_name, 'first name');
    });

    test('inhibit_login from the first request returns no access token', async () => {
      const first = await register({ username: 'inhibited', password: 'pw', inhibit_login: true });
      const done = await register({ auth: dummy(first.body.session) });
      assert.deepEqual(done.body, { user_id: '@inhibited:test.local', home_server: 'test.local' });
      assert.deepEqual(await hs.services.devices.list('@inhibited:test.local'), []);
    });

    test('replaying a completed session logs in to the same account, with or without a username', async () => {
      for (const username of ['replayed', undefined]) {
        const body = { ...(username ? { username } : {}), password: 'pw-replay' };
        const first = await register(body);
        const done = await register({ ...body, auth: dummy(first.body.session) });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        const again = await register({ ...body, auth: dummy(first.body.session) });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.user_id, done.body.user_id);
        assert.notEqual(again.body.access_token, done.body.access_token);
        for (const reply of [done, again]) {
          const whoami = await call(hs, 'GET', `${V3}/account/whoami`, undefined, reply.body.access_token as string);
          assert.equal(whoami.body.user_id, done.body.user_id);
        }
      }
      const first = await register({ username: 'once', password: 'pw' });
      await register({ username: 'once', password: 'pw', auth: dummy(first.body.session) });
      const other = await register({ username: 'twice', password: 'pw', auth: dummy(first.body.session) });
      assert.equal(other.status, 400);
      assert.match(other.body.error as string, /already registered @once:test\.local/);
    });

    test('two completing requests of one session at once register one account', async () => {
      const first = await register({ password: 'pw-race' });
      const [a, b] = await Promise.all([register({ auth: dummy(first.body.session) }), register({ auth: dummy(first.body.session) })]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(a.body.user_id, b.body.user_id);
    });

    test('a guest upgrades to a full account keeping its user ID, devices and profile', async () => {
      const guest = await register({}, '?kind=guest');
      assert.equal(guest.status, 200, JSON.stringify(guest.body));
      const guestId = guest.body.user_id as string;
      const localpart = guestId.slice(1, guestId.indexOf(':'));
      const guestToken = guest.body.access_token as string;
      const otherGuest = await register({}, '?kind=guest');

      const taken = await register({ username: localpart, password: 'pw-upgraded' });
      assert.equal(taken.body.errcode, 'M_USER_IN_USE', 'without the guest\u2019s token the name is taken');
      const wrongToken = await register({ username: localpart, password: 'pw', guest_access_token: otherGuest.body.access_token });
      assert.equal(wrongToken.status, 403);
      assert.equal(wrongToken.body.errcode, 'M_FORBIDDEN');
      const noName = await register({ password: 'pw', guest_access_token: guestToken });
      assert.equal(noName.status, 400);
      assert.equal(noName.body.errcode, 'M_MISSING_PARAM');

      const first = await register({ username: localpart, password: 'pw-upgraded', guest_access_token: guestToken });
      assert.equal(first.status, 401);
      const remembered = JSON.stringify(await hs.services.context.stores.uiaSessions.get(first.body.session as string));
      assert.ok(!remembered.includes(guestToken) && !remembered.includes('pw-upgraded'), 'the session keeps no token or password');
      const done = await register({ auth: dummy(first.body.session) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.user_id, guestId);
      const asOldToken = await call(hs, 'GET', `${V3}/account/whoami`, undefined, guestToken);
      assert.deepEqual(asOldToken.body, { user_id: guestId, device_id: guest.body.device_id, is_guest: false });
      assert.equal((await login(guestId, 'pw-upgraded')).status, 200);
      const profile = await call(hs, 'GET', `${V3}/profile/${encodeURIComponent(guestId)}`);
      assert.deepEqual(profile.body, { displayname: localpart });
      const again = await register({ username: localpart, password: 'pw', guest_access_token: guestToken });
      assert.equal(again.status, 403, 'a full account is no longer a guest to upgrade');
    });
  });
}
