// Synapse's federation destinations admin API on real federating servers:
// what a healthy and a failing destination report, the rooms of a
// destination, paging and ordering, reset_connection, and who may ask.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FederationOutboxStore } from '../../src/storage/federation-outbox.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { waitFor } from './edu-helpers.js';

type Json = Record<string, unknown>;
const BASE = '/_synapse/admin/v1/federation/destinations';

for (const engine of ENGINES) {
  describe(`federation destinations admin API (${engine})`, () => {
    let fed: Federation;
    let hs1: FederatedServer;
    let hs2: FederatedServer;
    let admin: TestUser;
    let roomId: string;
    const get = (path: string, token = admin.accessToken) => call<Json>(hs1.clientUrl, 'GET', path, undefined, token);
    const say = (body: string, txn: string) =>
      call(hs1.clientUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body }, admin.accessToken);

    before(async () => {
      fed = await startFederation({ servers: [{ name: 'hs1.test', engine }, { name: 'hs2.test' }] });
      [hs1, hs2] = [fed.servers[0]!, fed.servers[1]!];
      admin = await registerUser(hs1.clientUrl, 'admin');
      await hs1.services.accounts.context.stores.users.setAdmin(admin.userId, true);
      const bob = await registerUser(hs2.clientUrl, 'bob');
      const created = await call<Json>(hs1.clientUrl, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, admin.accessToken);
      roomId = created.body['room_id'] as string;
      const joined = await call(hs2.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?via=hs1.test`, {}, bob.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
    });
    after(() => fed?.close());

    test('a destination we deliver to: last success and the newest event sent, nothing failing or queued', async () => {
      assert.equal((await say('hello', 't1')).status, 200);
      const dest = await waitFor('a delivery to hs2.test', async () => {
        const res = await get(`${BASE}/hs2.test`);
        return res.status === 200 && res.body['last_successful_stream_ordering'] !== null ? res.body : undefined;
      });
      assert.equal(dest['destination'], 'hs2.test');
      assert.equal(dest['retry_last_ts'], 0);
      assert.equal(dest['retry_interval'], 0);
      assert.equal(dest['failure_ts'], null);
      assert.equal(dest['queue_length'], 0);
      assert.equal(typeof dest['last_success_ts'], 'number');
      assert.equal(typeof dest['last_successful_stream_ordering'], 'number');

      const rooms = await get(`${BASE}/hs2.test/rooms`);
      assert.equal(rooms.status, 200);
      assert.equal(rooms.body['total'], 1);
      assert.deepEqual((rooms.body['rooms'] as Json[]).map((r) => r['room_id']), [roomId]);
      // 'hello' is the room's newest event and the last one delivered.
      assert.equal((rooms.body['rooms'] as Json[])[0]!['stream_ordering'], dest['last_successful_stream_ordering']);
    });

    test('a stopped destination: when failures began, the back-off, the reason and the queue; reset_connection clears them', async () => {
      await hs2.stop();
      assert.equal((await say('while down', 't2')).status, 200);
      const dest = await waitFor('a failed delivery', async () => {
        const res = await get(`${BASE}/hs2.test`);
        return (res.body['retry_last_ts'] as number) > 0 ? res.body : undefined;
      });
      assert.ok((dest['retry_interval'] as number) > 0, 'backing off');
      assert.equal(dest['failure_ts'], dest['retry_last_ts'], 'the first failure of this run');
      assert.match(dest['last_error'] as string, /hs2\.test \(127\.0\.0\.2:\d+\) refused the connection/);
      assert.equal(dest['queue_length'], 1);

      // The back-off (5 s after the first failure) has not run out: only the reset makes hs1 try again this soon.
      await hs2.start();
      const reset = await call(hs1.clientUrl, 'POST', `${BASE}/hs2.test/reset_connection`, {}, admin.accessToken);
      assert.equal(reset.status, 200);
      assert.deepEqual(reset.body, {});
      await waitFor(
        'the queue to drain after the reset',
        async () => ((await get(`${BASE}/hs2.test`)).body['queue_length'] === 0 ? true : undefined),
        2_000,
      );
      const healthy = (await get(`${BASE}/hs2.test`)).body;
      assert.equal(healthy['failure_ts'], null);
      assert.equal(healthy['retry_last_ts'], 0);
      assert.match(healthy['last_error'] as string, /refused the connection/, 'the last failure stays, as history');
      const again = await call<Json>(hs1.clientUrl, 'POST', `${BASE}/hs2.test/reset_connection`, {}, admin.accessToken);
      assert.equal(again.status, 400);
      assert.match(again.body['error'] as string, /does not need to be reset/);
    });

    test('the list: filter, order_by, dir and paging with next_token', async () => {
      const outbox = new FederationOutboxStore(hs1.services.db);
      const now = Date.now();
      await outbox.recordFailure('alpha.test', now - 5_000, now + 60_000, 'connection refused');
      await outbox.recordFailure('omega.test', now - 1_000, now + 10_000, 'timed out');

      const all = await get(BASE);
      assert.equal(all.status, 200);
      assert.deepEqual((all.body['destinations'] as Json[]).map((d) => d['destination']), ['alpha.test', 'hs2.test', 'omega.test']);
      assert.equal(all.body['total'], 3);
      assert.equal(all.body['next_token'], undefined);

      const first = await get(`${BASE}?limit=2`);
      assert.deepEqual((first.body['destinations'] as Json[]).map((d) => d['destination']), ['alpha.test', 'hs2.test']);
      assert.equal(first.body['next_token'], '2');
      const rest = await get(`${BASE}?limit=2&from=2`);
      assert.deepEqual((rest.body['destinations'] as Json[]).map((d) => d['destination']), ['omega.test']);

      const byRetry = await get(`${BASE}?order_by=retry_last_ts&dir=b`);
      assert.deepEqual((byRetry.body['destinations'] as Json[]).map((d) => d['destination']), ['omega.test', 'alpha.test', 'hs2.test']);
      const byInterval = await get(`${BASE}?order_by=retry_interval`);
      assert.deepEqual((byInterval.body['destinations'] as Json[]).map((d) => [d['destination'], d['retry_interval']]), [['hs2.test', 0], ['omega.test', 11_000], ['alpha.test', 65_000]]);

      const filtered = await get(`${BASE}?destination=MEG`);
      assert.deepEqual((filtered.body['destinations'] as Json[]).map((d) => [d['destination'], d['last_error']]), [['omega.test', 'timed out']]);
      assert.equal(filtered.body['total'], 1);
    });

    test('bad input and unknown destinations get the Matrix error to act on', async () => {
      const badOrder = await get(`${BASE}?order_by=name`);
      assert.equal(badOrder.status, 400);
      assert.equal(badOrder.body['errcode'], 'M_INVALID_PARAM');
      assert.match(badOrder.body['error'] as string, /order_by: 'name'; use one of destination, retry_last_ts/);
      assert.equal((await get(`${BASE}?dir=x`)).body['errcode'], 'M_INVALID_PARAM');
      assert.equal((await get(`${BASE}?limit=-1`)).body['errcode'], 'M_INVALID_PARAM');
      const unknown = await get(`${BASE}/nowhere.test`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body['errcode'], 'M_NOT_FOUND');
      assert.equal((await get(`${BASE}/nowhere.test/rooms`)).status, 404);
      assert.equal((await call(hs1.clientUrl, 'POST', `${BASE}/nowhere.test/reset_connection`, {}, admin.accessToken)).status, 404);
      assert.equal((await get(`${BASE}/bad%20name`)).body['errcode'], 'M_INVALID_PARAM');
    });

    test('admins only', async () => {
      const user = await registerUser(hs1.clientUrl, 'someone');
      for (const [method, path] of [['GET', BASE], ['GET', `${BASE}/hs2.test`], ['GET', `${BASE}/hs2.test/rooms`], ['POST', `${BASE}/hs2.test/reset_connection`]] as const) {
        const res = await call<Json>(hs1.clientUrl, method, path, method === 'POST' ? {} : undefined, user.accessToken);
        assert.equal(res.status, 403, path);
        assert.equal(res.body['errcode'], 'M_FORBIDDEN');
      }
    });
  });
}
