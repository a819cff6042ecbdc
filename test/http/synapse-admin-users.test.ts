// Synapse's user admin API over real HTTP (Synapse docs,
// admin_api/user_admin_api.md), the server version API, and the page at `/`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerAdmin } from '../helpers/admin.js';

const enc = encodeURIComponent;

for (const engine of ENGINES) {
  describe(`Synapse user admin API (${engine})`, () => {
    let hs: TestHomeserver;
    let admin: TestUser;
    let alice: TestUser;
    const api = (method: string, path: string, body?: unknown, user: TestUser = admin) => call(hs.baseUrl, method, path, body, user.accessToken);
    const login = (user: string, password: string) =>
      call(hs.baseUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

    before(async () => {
      hs = await startTestHomeserver({ engine });
      admin = await registerAdmin(hs, 'root');
      alice = await registerUser(hs.baseUrl, 'alice');
      for (const name of ['bob', 'carol', 'dave']) await registerUser(hs.baseUrl, name);
    });
    after(async () => hs.close());

    test('every route answers a non-admin 403 M_FORBIDDEN, before looking anything up', async () => {
      const target = enc(`@ghost:${hs.config.serverName}`);
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/_synapse/admin/v2/users'],
        ['GET', `/_synapse/admin/v2/users/${target}`],
        ['PUT', `/_synapse/admin/v2/users/${target}`, { password: 'x' }],
        ['GET', `/_synapse/admin/v2/users/${target}/devices`],
        ['POST', `/_synapse/admin/v1/deactivate/${target}`, {}],
        ['POST', `/_synapse/admin/v1/reset_password/${target}`, { new_password: 'x' }],
        ['GET', `/_synapse/admin/v1/whois/${target}`],
      ];
      for (const [method, path, body] of routes) {
        const r = await api(method, path, body, alice);
        assert.deepEqual([r.status, r.body.errcode], [403, 'M_FORBIDDEN'], `${method} ${path}`);
      }
      const anonymous = await call(hs.baseUrl, 'GET', '/_synapse/admin/v2/users');
      assert.equal(anonymous.status, 401);
    });

    test('list: Synapse shape, paging with next_token, filters and order', async () => {
      const all = await api('GET', '/_synapse/admin/v2/users');
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.equal(all.body.total, 5);
      const users = all.body.users as Array<Record<string, unknown>>;
      assert.deepEqual(
        users.map((u) => u.name),
        ['alice', 'bob', 'carol', 'dave', 'root'].map((n) => `@${n}:${hs.config.serverName}`),
      );
      const root = users.find((u) => u.name === admin.userId)!;
      assert.equal(root.admin, true);
      assert.equal(root.deactivated, false);
      assert.equal(root.displayname, 'root');
      assert.equal(typeof root.creation_ts, 'number');
      assert.ok((root.creation_ts as number) < Date.now() / 100, 'creation_ts is in seconds, as Synapse serves it');
      assert.equal(all.body.next_token, undefined, 'no next page');

      const first = await api('GET', '/_synapse/admin/v2/users?limit=2');
      assert.deepEqual([(first.body.users as unknown[]).length, first.body.total, first.body.next_token], [2, 5, '2']);
      const second = await api('GET', `/_synapse/admin/v2/users?limit=2&from=${first.body.next_token}`);
      assert.equal((second.body.users as Array<{ name: string }>)[0]!.name, `@carol:${hs.config.serverName}`);
      const last = await api('GET', '/_synapse/admin/v2/users?limit=2&from=4');
      assert.deepEqual([(last.body.users as unknown[]).length, last.body.next_token], [1, undefined]);

      const byName = await api('GET', '/_synapse/admin/v2/users?name=CAR');
      assert.deepEqual((byName.body.users as Array<{ name: string }>).map((u) => u.name), [`@carol:${hs.config.serverName}`]);
      assert.equal(byName.body.total, 1);
      const wildcard = await api('GET', `/_synapse/admin/v2/users?user_id=${enc('%')}`);
      assert.equal(wildcard.body.total, 0, 'LIKE wildcards in a filter are taken literally');
      const admins = await api('GET', '/_synapse/admin/v2/users?admins=true');
      assert.deepEqual((admins.body.users as Array<{ name: string }>).map((u) => u.name), [admin.userId]);
      const backwards = await api('GET', '/_synapse/admin/v2/users?order_by=name&dir=b&limit=1');
      assert.equal((backwards.body.users as Array<{ name: string }>)[0]!.name, admin.userId);

      const badOrder = await api('GET', '/_synapse/admin/v2/users?order_by=password');
      assert.deepEqual([badOrder.status, badOrder.body.errcode], [400, 'M_INVALID_PARAM']);
      const badDir = await api('GET', '/_synapse/admin/v2/users?dir=up');
      assert.deepEqual([badDir.status, badDir.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('get: one user; unknown 404, other servers 400', async () => {
      const got = await api('GET', `/_synapse/admin/v2/users/${enc(alice.userId)}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.name, alice.userId);
      assert.equal(got.body.admin, false);
      assert.equal(typeof got.body.last_seen_ts, 'number', 'alice has used her token');
      const unknown = await api('GET', `/_synapse/admin/v2/users/${enc(`@ghost:${hs.config.serverName}`)}`);
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const remote = await api('GET', `/_synapse/admin/v2/users/${enc('@x:elsewhere.example')}`);
      assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('PUT creates (201) an account that can sign in, then modifies it (200)', async () => {
      const userId = `@erin:${hs.config.serverName}`;
      const created = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { password: 'first password', displayname: 'Erin', admin: false });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual([created.body.name, created.body.displayname, created.body.admin], [userId, 'Erin', false]);
      const session = await login('erin', 'first password');
      assert.equal(session.status, 200);

      const modified = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { displayname: 'Erin E.', admin: true, password: 'second password' });
      assert.equal(modified.status, 200, JSON.stringify(modified.body));
      assert.deepEqual([modified.body.displayname, modified.body.admin], ['Erin E.', true]);
      const profile = await call(hs.baseUrl, 'GET', `/_matrix/client/v3/profile/${enc(userId)}/displayname`);
      assert.equal(profile.body.displayname, 'Erin E.');
      const oldToken = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, session.body.access_token as string);
      assert.equal(oldToken.status, 401, 'a new password signs the user out everywhere by default');
      assert.equal((await login('erin', 'second password')).status, 200);

      const upper = await api('PUT', `/_synapse/admin/v2/users/${enc(`@Frank:${hs.config.serverName}`)}`, { password: 'p' });
      assert.deepEqual([upper.status, upper.body.errcode], [400, 'M_INVALID_USERNAME']);
      const threepids = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { threepids: [{ medium: 'email', address: 'e@example.org' }] });
      assert.deepEqual([threepids.status, threepids.body.errcode], [400, 'M_INVALID_PARAM']);
      const demote = await api('PUT', `/_synapse/admin/v2/users/${enc(admin.userId)}`, { admin: false });
      assert.deepEqual([demote.status, demote.body.errcode], [400, 'M_INVALID_PARAM'], 'admins may not demote themselves');
    });

    test('deactivate and reactivate through PUT; reactivation needs a password', async () => {
      const userId = `@gina:${hs.config.serverName}`;
      await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { password: 'gina password' });
      const off = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { deactivated: true });
      assert.deepEqual([off.status, off.body.deactivated], [200, true]);
      assert.equal((await login('gina', 'gina password')).body.errcode, 'M_USER_DEACTIVATED');
      const listed = await api('GET', '/_synapse/admin/v2/users?deactivated=true&name=gina');
      assert.equal(listed.body.total, 1);
      assert.equal((await api('GET', '/_synapse/admin/v2/users?name=gina')).body.total, 0, 'deactivated users are left out by default');
      const noPassword = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { deactivated: false });
      assert.deepEqual([noPassword.status, noPassword.body.errcode], [400, 'M_INVALID_PARAM']);
      const on = await api('PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { deactivated: false, password: 'new gina password' });
      assert.deepEqual([on.status, on.body.deactivated], [200, false]);
      assert.equal((await login('gina', 'new gina password')).status, 200);
    });

    test('POST deactivate (with erase) and reset_password', async () => {
      const hank = await registerUser(hs.baseUrl, 'hank');
      const reset = await api('POST', `/_synapse/admin/v1/reset_password/${enc(hank.userId)}`, { new_password: 'reset password', logout_devices: false });
      assert.deepEqual([reset.status, reset.body], [200, {}]);
      assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, hank.accessToken)).status, 200, 'logout_devices: false keeps sessions');
      assert.equal((await login('hank', 'reset password')).status, 200);
      const missing = await api('POST', `/_synapse/admin/v1/reset_password/${enc(hank.userId)}`, {});
      assert.deepEqual([missing.status, missing.body.errcode], [400, 'M_MISSING_PARAM']);

      const devices = await api('GET', `/_synapse/admin/v2/users/${enc(hank.userId)}/devices`);
      assert.equal(devices.body.total, 2);
      assert.ok((devices.body.devices as Array<{ device_id: string }>).some((d) => d.device_id === hank.deviceId));

      const gone = await api('POST', `/_synapse/admin/v1/deactivate/${enc(hank.userId)}`, { erase: true });
      assert.deepEqual([gone.status, gone.body], [200, { id_server_unbind_result: 'success' }]);
      const after = await api('GET', `/_synapse/admin/v2/users/${enc(hank.userId)}`);
      assert.deepEqual([after.body.deactivated, after.body.erased], [true, true]);
      assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, hank.accessToken)).status, 401);
      const unknown = await api('POST', `/_synapse/admin/v1/deactivate/${enc(`@ghost:${hs.config.serverName}`)}`, {});
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
    });

    test('whois under /_synapse/admin/v1 answers as the client API', async () => {
      const synapse = await api('GET', `/_synapse/admin/v1/whois/${enc(alice.userId)}`);
      const client = await api('GET', `/_matrix/client/v3/admin/whois/${enc(alice.userId)}`);
      assert.equal(synapse.status, 200);
      assert.deepEqual(synapse.body, client.body);
    });
  });
}

describe('server version and the page at /', () => {
  let hs: TestHomeserver;
  before(async () => {
    hs = await startTestHomeserver();
  });
  after(async () => hs.close());

  test('GET /_synapse/admin/v1/server_version needs no token, as in Synapse', async () => {
    const r = await call(hs.baseUrl, 'GET', '/_synapse/admin/v1/server_version');
    assert.equal(r.status, 200);
    const fed = await call(hs.baseUrl, 'GET', '/_matrix/federation/v1/version');
    assert.deepEqual(r.body, { server_version: (fed.body.server as { version: string }).version });
  });

  test('GET / says Axon is running, its version, and the address to type into Element', async () => {
    const res = await fetch(`${hs.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /Axon is running/);
    const { version } = (await call<{ server: { version: string } }>(hs.baseUrl, 'GET', '/_matrix/federation/v1/version')).body.server;
    assert.ok(html.includes(`<span id="version">${version}</span>`));
    assert.ok(html.includes(`<code id="homeserver-url">${hs.config.publicBaseUrl}</code>`));
    assert.match(html, /Element/);
    const unknown = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/nothing_here');
    assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_UNRECOGNIZED']);
    const elsewhere = await call(hs.baseUrl, 'GET', '/index.html');
    assert.deepEqual([elsewhere.status, elsewhere.body.errcode], [404, 'M_UNRECOGNIZED']);
  });
});
