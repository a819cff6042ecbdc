// Server administration over real HTTP (admin.yaml): whois, and what
// locking and suspending an account do to its requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

for (const engine of ENGINES) {
  describe(`server administration (${engine})`, () => {
    let hs: TestHomeserver;
    let admin: TestUser;
    let otherAdmin: TestUser;
    let alice: TestUser;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, `/_matrix/client${path}`, body, user?.accessToken);
    const enc = encodeURIComponent;
    const login = async (user: string) => call(hs.baseUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password: 'correct horse battery' });

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [admin, otherAdmin, alice] = await Promise.all(['root', 'root2', 'alice'].map((name) => registerUser(hs.baseUrl, name)));
      for (const user of [admin, otherAdmin]) await hs.server.accounts.context.stores.users.setAdmin(user.userId, true);
    });
    after(async () => hs.close());

    test('whois: yourself or an admin; one session per device with its last-seen connection', async () => {
      await fetch(`${hs.baseUrl}/_matrix/client/v3/account/whoami`, { headers: { Authorization: `Bearer ${alice.accessToken}`, 'User-Agent': 'whois-test/1.0' } });
      const own = await api('GET', `/v3/admin/whois/${enc(alice.userId)}`, undefined, alice);
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.equal(own.body.user_id, alice.userId);
      const devices = own.body.devices as Record<string, { sessions: Array<{ connections: Array<Record<string, unknown>> }> }>;
      const [connection] = devices[alice.deviceId]!.sessions[0]!.connections;
      assert.equal(connection!.ip, '127.0.0.1');
      assert.equal(typeof connection!.last_seen, 'number');
      assert.equal(typeof connection!.user_agent, 'string');
      assert.deepEqual((await api('GET', `/v3/admin/whois/${enc(alice.userId)}`, undefined, admin)).body, own.body);
      const other = await api('GET', `/v3/admin/whois/${enc(admin.userId)}`, undefined, alice);
      assert.deepEqual([other.status, other.body.errcode], [403, 'M_FORBIDDEN']);
      const remote = await api('GET', `/v3/admin/whois/${enc('@someone:elsewhere.example')}`, undefined, admin);
      assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
      const unknown = await api('GET', `/v3/admin/whois/${enc(`@ghost:${hs.config.serverName}`)}`, undefined, admin);
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
    });

    test('lock and suspend need an admin, checked before any lookup; admins cannot be targets', async () => {
      for (const segment of ['lock', 'suspend']) {
        const field = segment === 'lock' ? 'locked' : 'suspended';
        for (const target of [otherAdmin.userId, `@ghost:${hs.config.serverName}`]) {
          const get = await api('GET', `/v1/admin/${segment}/${enc(target)}`, undefined, alice);
          assert.deepEqual([get.status, get.body.errcode], [403, 'M_FORBIDDEN'], 'a non-admin learns nothing about the target');
          assert.equal((await api('PUT', `/v1/admin/${segment}/${enc(target)}`, { [field]: true }, alice)).status, 403);
        }
        const remote = await api('GET', `/v1/admin/${segment}/${enc('@x:elsewhere.example')}`, undefined, admin);
        assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
        const unknown = await api('PUT', `/v1/admin/${segment}/${enc(`@ghost:${hs.config.serverName}`)}`, { [field]: true }, admin);
        assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
        const self = await api('PUT', `/v1/admin/${segment}/${enc(admin.userId)}`, { [field]: true }, admin);
        assert.deepEqual([self.status, self.body.errcode], [403, 'M_FORBIDDEN']);
        const peer = await api('PUT', `/v1/admin/${segment}/${enc(otherAdmin.userId)}`, { [field]: true }, admin);
        assert.deepEqual([peer.status, peer.body.errcode], [403, 'M_FORBIDDEN']);
        const noBody = await api('PUT', `/v1/admin/${segment}/${enc(alice.userId)}`, {}, admin);
        assert.deepEqual([noBody.status, noBody.body.errcode], [400, 'M_MISSING_PARAM']);
        assert.deepEqual((await api('GET', `/v1/admin/${segment}/${enc(alice.userId)}`, undefined, admin)).body, { [field]: false });
      }
    });

    test('capabilities: m.account_moderation for admins only; m.profile_fields for everyone', async () => {
      const adminCaps = (await api('GET', '/v3/capabilities', undefined, admin)).body.capabilities as Record<string, unknown>;
      assert.deepEqual(adminCaps['m.account_moderation'], { suspend: true, lock: true });
      const userCaps = (await api('GET', '/v3/capabilities', undefined, alice)).body.capabilities as Record<string, unknown>;
      assert.equal(userCaps['m.account_moderation'], undefined);
      assert.deepEqual(userCaps['m.profile_fields'], { enabled: true });
    });

    test('a locked account gets 401 M_USER_LOCKED (soft logout) everywhere but logout, and its sessions survive the lock', async () => {
      const bob = await registerUser(hs.baseUrl, 'bob');
      const second = await login('bob');
      assert.equal(second.status, 200);
      const put = await api('PUT', `/v1/admin/lock/${enc(bob.userId)}`, { locked: true }, admin);
      assert.deepEqual([put.status, put.body], [200, { locked: true }]);
      assert.deepEqual((await api('GET', `/v1/admin/lock/${enc(bob.userId)}`, undefined, admin)).body, { locked: true });
      for (const [method, path] of [['GET', '/v3/account/whoami'], ['GET', '/v3/sync?timeout=0'], ['GET', `/v3/profile/${enc(alice.userId)}`], ['POST', '/v3/createRoom']]) {
        const res = await api(method!, path!, method === 'POST' ? {} : undefined, bob);
        assert.deepEqual([res.status, res.body.errcode, res.body.soft_logout], [401, 'M_USER_LOCKED', true], `${method} ${path}`);
      }
      const relogin = await login('bob');
      assert.deepEqual([relogin.status, relogin.body.errcode], [401, 'M_USER_LOCKED']);
      const logout = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/logout', {}, second.body.access_token as string);
      assert.equal(logout.status, 200, 'logout stays open to a locked account');
      assert.equal((await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, second.body.access_token as string)).body.errcode, 'M_UNKNOWN_TOKEN');
      assert.equal((await api('PUT', `/v1/admin/lock/${enc(bob.userId)}`, { locked: false }, admin)).status, 200);
      const whoami = await api('GET', '/v3/account/whoami', undefined, bob);
      assert.deepEqual([whoami.status, whoami.body.user_id], [200, bob.userId], 'the token kept through the lock works again');
    });

    for (const roomVersion of ['10', '12']) {
      test(`a suspended account reads, leaves and redacts its own events, but cannot send, join, invite or change its profile (v${roomVersion})`, async () => {
        const carol = await registerUser(hs.baseUrl, `carol${roomVersion}`);
        const dave = await registerUser(hs.baseUrl, `dave${roomVersion}`);
        const room = (await api('POST', '/v3/createRoom', { preset: 'public_chat', room_version: roomVersion }, carol)).body.room_id as string;
        const other = (await api('POST', '/v3/createRoom', { preset: 'public_chat', room_version: roomVersion }, dave)).body.room_id as string;
        const third = (await api('POST', '/v3/createRoom', { preset: 'public_chat', room_version: roomVersion }, dave)).body.room_id as string;
        assert.equal((await api('POST', `/v3/join/${enc(room)}`, {}, dave)).status, 200);
        assert.equal((await api('POST', `/v3/join/${enc(third)}`, {}, carol)).status, 200);
        const send = (user: TestUser, txn: string) => api('PUT', `/v3/rooms/${enc(room)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: txn }, user);
        const own = (await send(carol, 'before')).body.event_id as string;
        const daves = (await send(dave, 'dave')).body.event_id as string;

        assert.deepEqual((await api('PUT', `/v1/admin/suspend/${enc(carol.userId)}`, { suspended: true }, admin)).body, { suspended: true });
        const refused: Array<[string, string, unknown]> = [
          ['PUT', `/v3/rooms/${enc(room)}/send/m.room.message/during`, { msgtype: 'm.text', body: 'no' }],
          ['PUT', `/v3/rooms/${enc(room)}/state/m.room.topic/`, { topic: 'no' }],
          ['POST', `/v3/join/${enc(other)}`, {}],
          ['POST', `/v3/rooms/${enc(room)}/invite`, { user_id: admin.userId }],
          ['POST', '/v3/createRoom', { room_version: roomVersion }],
          ['PUT', `/v3/rooms/${enc(room)}/redact/${enc(daves)}/r1`, {}],
          ['PUT', `/v3/profile/${enc(carol.userId)}/displayname`, { displayname: 'Suspended Carol' }],
          ['DELETE', `/v3/profile/${enc(carol.userId)}/m.tz`, undefined],
        ];
        for (const [method, path, body] of refused) {
          const res = await api(method, path, body, carol);
          assert.deepEqual([res.status, res.body.errcode], [403, 'M_USER_SUSPENDED'], `${method} ${path}`);
        }
        const messages = await api('GET', `/v3/rooms/${enc(room)}/messages?dir=b&limit=5`, undefined, carol);
        assert.equal(messages.status, 200);
        assert.ok((messages.body.chunk as Array<{ event_id: string }>).some((e) => e.event_id === daves), 'reading still works');
        assert.equal((await api('PUT', `/v3/rooms/${enc(room)}/redact/${enc(own)}/r2`, {}, carol)).status, 200, 'own events can be redacted');
        assert.equal((await api('POST', `/v3/rooms/${enc(third)}/leave`, {}, carol)).status, 200, 'leaving is allowed');

        assert.equal((await api('PUT', `/v1/admin/suspend/${enc(carol.userId)}`, { suspended: false }, admin)).status, 200);
        assert.equal((await send(carol, 'after')).status, 200);
        assert.equal((await api('POST', `/v3/join/${enc(other)}`, {}, carol)).status, 200);
      });
    }
  });
}
