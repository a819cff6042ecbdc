import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startAccountsServer, type AccountsServer } from './accounts-harness.js';

const V3 = '/_matrix/client/v3';

describe('account, devices, profile and capabilities over HTTP', () => {
  let hs: AccountsServer;
  before(async () => (hs = await startAccountsServer()));
  after(async () => hs.close());

  const passwordAuth = (user: string, password: string, session: unknown) => ({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    session,
  });
  const login = async (user: string, password: string, deviceId?: string) =>
    call(hs, 'POST', `${V3}/login`, { type: 'm.login.password', user, password, device_id: deviceId });

  test('the account has no third-party identifiers, as m.3pid_changes is disabled', async () => {
    const me = await registerUser(hs, 'tess', 'pw-tess');
    const list = await call(hs, 'GET', `${V3}/account/3pid`, undefined, me.accessToken);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { threepids: [] });
    assert.equal((await call(hs, 'GET', `${V3}/account/3pid`)).status, 401);
  });

  test('password change: UIA with the current password, other devices logged out by default', async () => {
    const me = await registerUser(hs, 'pat', 'old-pw');
    const other = (await login('pat', 'old-pw')).body.access_token as string;
    const first = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'new-pw' }, me.accessToken);
    assert.equal(first.status, 401);
    const wrong = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'new-pw', auth: passwordAuth('pat', 'bad', first.body.session) }, me.accessToken);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    const done = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'new-pw', auth: passwordAuth('pat', 'old-pw', first.body.session) }, me.accessToken);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, me.accessToken)).status, 200);
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, other)).status, 401);
    assert.equal((await login('pat', 'old-pw')).status, 403);
    assert.equal((await login('pat', 'new-pw')).status, 200);
  });

  test('password change with logout_devices false keeps other sessions; another user\'s password is 403', async () => {
    const me = await registerUser(hs, 'quinn', 'pw1');
    await registerUser(hs, 'rita', 'pw-rita');
    const other = (await login('quinn', 'pw1')).body.access_token as string;
    const first = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'pw2', logout_devices: false }, me.accessToken);
    const foreign = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'pw2', auth: passwordAuth('rita', 'pw-rita', first.body.session) }, me.accessToken);
    assert.equal(foreign.status, 403);
    const done = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'pw2', logout_devices: false, auth: passwordAuth('@quinn:test.local', 'pw1', first.body.session) }, me.accessToken);
    assert.equal(done.status, 200);
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, other)).status, 200);
  });

  test('a UIA session cannot be spent on a different operation', async () => {
    const me = await registerUser(hs, 'sam', 'pw');
    const first = await call(hs, 'POST', `${V3}/account/password`, { new_password: 'x' }, me.accessToken);
    const res = await call(hs, 'POST', `${V3}/account/deactivate`, { auth: passwordAuth('sam', 'pw', first.body.session) }, me.accessToken);
    assert.equal(res.status, 403);
    assert.equal(res.body.errcode, 'M_FORBIDDEN');
  });

  test('devices: list, get, rename, last seen; unknown device 404; delete behind UIA', async () => {
    const me = await registerUser(hs, 'tara', 'pw');
    const phone = (await login('tara', 'pw', 'PHONE')).body.access_token as string;
    const list = await call(hs, 'GET', `${V3}/devices`, undefined, me.accessToken);
    const devices = list.body.devices as Array<Record<string, unknown>>;
    assert.deepEqual(devices.map((d) => d.device_id).sort(), [me.deviceId, 'PHONE'].sort());
    const mine = devices.find((d) => d.device_id === me.deviceId)!;
    assert.equal(mine.last_seen_ip, '127.0.0.1');
    assert.equal(typeof mine.last_seen_ts, 'number');

    assert.equal((await call(hs, 'PUT', `${V3}/devices/PHONE`, { display_name: 'My phone' }, me.accessToken)).status, 200);
    assert.equal((await call(hs, 'GET', `${V3}/devices/PHONE`, undefined, me.accessToken)).body.display_name, 'My phone');
    const missing = await call(hs, 'GET', `${V3}/devices/NOPE`, undefined, me.accessToken);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.errcode, 'M_NOT_FOUND');
    assert.equal((await call(hs, 'PUT', `${V3}/devices/NOPE`, { display_name: 'x' }, me.accessToken)).status, 404);

    const first = await call(hs, 'DELETE', `${V3}/devices/PHONE`, {}, me.accessToken);
    assert.equal(first.status, 401);
    assert.deepEqual(first.body.flows, [{ stages: ['m.login.password'] }]);
    const done = await call(hs, 'DELETE', `${V3}/devices/PHONE`, { auth: passwordAuth('tara', 'pw', first.body.session) }, me.accessToken);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal((await call(hs, 'GET', `${V3}/account/whoami`, undefined, phone)).status, 401);
    assert.equal((await call(hs, 'GET', `${V3}/devices/PHONE`, undefined, me.accessToken)).status, 404);
  });

  test('POST /delete_devices removes several devices after UIA', async () => {
    const me = await registerUser(hs, 'uma', 'pw');
    await login('uma', 'pw', 'A');
    await login('uma', 'pw', 'B');
    const first = await call(hs, 'POST', `${V3}/delete_devices`, { devices: ['A', 'B'] }, me.accessToken);
    assert.equal(first.status, 401);
    const done = await call(hs, 'POST', `${V3}/delete_devices`, { devices: ['A', 'B'], auth: passwordAuth('uma', 'pw', first.body.session) }, me.accessToken);
    assert.equal(done.status, 200);
    const left = (await call(hs, 'GET', `${V3}/devices`, undefined, me.accessToken)).body.devices as Array<Record<string, unknown>>;
    assert.deepEqual(left.map((d) => d.device_id), [me.deviceId]);
    assert.equal((await call(hs, 'POST', `${V3}/delete_devices`, {}, me.accessToken)).body.errcode, 'M_MISSING_PARAM');
  });

  test('profile: read by anyone, set only by yourself, avatar must be mxc, unknown user 404', async () => {
    const me = await registerUser(hs, 'vic', 'pw');
    const other = await registerUser(hs, 'wes', 'pw');
    const base = `${V3}/profile/${encodeURIComponent(me.userId)}`;
    assert.deepEqual((await call(hs, 'GET', `${base}/displayname`)).body, { displayname: 'vic' });
    assert.equal((await call(hs, 'PUT', `${base}/displayname`, { displayname: 'Victor' }, me.accessToken)).status, 200);
    assert.equal((await call(hs, 'PUT', `${base}/avatar_url`, { avatar_url: 'mxc://test.local/abc' }, me.accessToken)).status, 200);
    assert.deepEqual((await call(hs, 'GET', base)).body, { displayname: 'Victor', avatar_url: 'mxc://test.local/abc' });
    assert.deepEqual((await call(hs, 'GET', `${base}/avatar_url`)).body, { avatar_url: 'mxc://test.local/abc' });

    const notMine = await call(hs, 'PUT', `${base}/displayname`, { displayname: 'Evil' }, other.accessToken);
    assert.equal(notMine.status, 403);
    assert.equal(notMine.body.errcode, 'M_FORBIDDEN');
    const badAvatar = await call(hs, 'PUT', `${base}/avatar_url`, { avatar_url: 'https://example.org/a.png' }, me.accessToken);
    assert.equal(badAvatar.status, 400);
    assert.equal(badAvatar.body.errcode, 'M_INVALID_PARAM');
    assert.equal((await call(hs, 'PUT', `${base}/avatar_url`, { avatar_url: '' }, me.accessToken)).status, 200);
    assert.equal((await call(hs, 'GET', `${base}/avatar_url`)).status, 404);

    const unknown = await call(hs, 'GET', `${V3}/profile/${encodeURIComponent('@ghost:test.local')}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errcode, 'M_NOT_FOUND');
    assert.equal((await call(hs, 'GET', `${V3}/profile/${encodeURIComponent('@ghost:test.local')}/displayname`)).status, 404);
  });

  test('capabilities', async () => {
    const me = await registerUser(hs, 'xena', 'pw');
    const res = await call(hs, 'GET', `${V3}/capabilities`, undefined, me.accessToken);
    const caps = res.body.capabilities as Record<string, Record<string, unknown>>;
    assert.deepEqual(caps['m.change_password'], { enabled: true });
    assert.equal(caps['m.room_versions']!.default, '10');
    const available = caps['m.room_versions']!.available as Record<string, string>;
    assert.deepEqual(Object.keys(available), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    assert.ok(Object.values(available).every((s) => s === 'stable'));
    assert.deepEqual(caps['m.set_displayname'], { enabled: true });
    assert.deepEqual(caps['m.set_avatar_url'], { enabled: true });
    assert.deepEqual(caps['m.3pid_changes'], { enabled: false });
    assert.deepEqual(caps['m.get_login_token'], { enabled: false });
    assert.equal((await call(hs, 'GET', `${V3}/capabilities`)).body.errcode, 'M_MISSING_TOKEN');
  });
});
