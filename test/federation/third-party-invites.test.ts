// Third-party invites across two servers (server-server-api "Third-party
// invites"): the identity server tells the invitee's server of the binding
// (/3pid/onbind); a server outside the room asks the inviter's to exchange
// the invite (/exchange_third_party_invite), a server in the room makes the
// invite itself for the inviter on the other server, and the other server
// accepts it though the inviter's server did not sign it. hs2 runs on
// PostgreSQL; room versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { signJson } from '../../src/core/signing.js';
import type { JsonObject } from '../../src/core/types.js';
import { formatXMatrix, requestJson } from '../../src/core/x-matrix.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { httpsCall, startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { startIdentityServer, type FakeIdentityServer } from '../helpers/identity-server.js';
import { createTestCa, type TestCa } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

type Json = Record<string, unknown>;
const V3 = '/_matrix/client/v3';

describe('third-party invites across two servers', () => {
  let ca: TestCa;
  let fed: Federation;
  let ids: FakeIdentityServer;
  let server1: FederatedServer;
  let server2: FederatedServer;
  let alice: TestUser;
  let users = 0;

  before(async () => {
    ca = await createTestCa();
    ids = await startIdentityServer(ca);
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine: 'postgres' }], ca, identityServerCas: [ca.certPem] });
    [server1, server2] = [fed.servers[0]!, fed.servers[1]!];
    alice = await registerUser(server1.clientUrl, 'alice');
  });
  after(async () => {
    await fed?.close();
    await ids?.close();
  });

  const newUser = (server: FederatedServer) => registerUser(server.clientUrl, `user${users++}`);
  const membership = async (server: FederatedServer, token: string, roomId: string, userId: string) =>
    (await call<Json>(server.clientUrl, 'GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(userId)}`, undefined, token)).body;
  const inviteByEmail = async (roomId: string, address: string) => {
    const res = await call(server1.clientUrl, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/invite`, { id_server: ids.name, id_access_token: ids.accessToken, medium: 'email', address }, alice.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  for (const version of ['12', '10']) {
    test(`v${version}: a server outside the room has the inviter's server exchange the invite, and its user joins`, async () => {
      const bob = await newUser(server2);
      const created = await call<Json>(server1.clientUrl, 'POST', `${V3}/createRoom`, { room_version: version, preset: 'private_chat' }, alice.accessToken);
      const roomId = created.body['room_id'] as string;
      await inviteByEmail(roomId, `bob-${version}@example.org`);

      const onbind = await ids.bind('email', `bob-${version}@example.org`, bob.userId, { baseUrl: server2.baseUrl, ca: ca.certPem });
      assert.deepEqual(onbind, { status: 200, body: {} });
      const invite = await membership(server1, alice.accessToken, roomId, bob.userId);
      assert.equal(invite['membership'], 'invite');
      assert.equal((invite['third_party_invite'] as Json)['display_name'], 'a...@e...');
      // hs2 signed the invite of its user (Inviting to a room) and now holds it.
      await waitFor('the invite on hs2', async () => {
        const sync = await call<Json>(server2.clientUrl, 'GET', `${V3}/sync`, undefined, bob.accessToken);
        return ((sync.body['rooms'] as Json | undefined)?.['invite'] as Json | undefined)?.[roomId];
      });
      const joined = await call(server2.clientUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      await waitFor('the join on hs1', async () => (await membership(server1, alice.accessToken, roomId, bob.userId))['membership'] === 'join');
    });

    test(`v${version}: a server in the room makes the invite for the other server's inviter, which accepts it`, async () => {
      const carol = await newUser(server2);
      const dave = await newUser(server2);
      const created = await call<Json>(server1.clientUrl, 'POST', `${V3}/createRoom`, { room_version: version, preset: 'private_chat', invite: [carol.userId] }, alice.accessToken);
      const roomId = created.body['room_id'] as string;
      await waitFor('the invite of carol', async () => {
        const res = await call(server2.clientUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {}, carol.accessToken);
        return res.status === 200;
      });
      await inviteByEmail(roomId, `dave-${version}@example.org`);
      const { token } = ids.invites.find((i) => i.room_id === roomId)!;
      await waitFor('the m.room.third_party_invite on hs2', async () => {
        const res = await call(server2.clientUrl, 'GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.third_party_invite/${token}`, undefined, carol.accessToken);
        return res.status === 200;
      });

      const onbind = await ids.bind('email', `dave-${version}@example.org`, dave.userId, { baseUrl: server2.baseUrl, ca: ca.certPem });
      assert.deepEqual(onbind, { status: 200, body: {} });
      const made = await membership(server2, carol.accessToken, roomId, dave.userId);
      assert.equal(made['membership'], 'invite');
      // hs1 took the invite hs2 built, signed by hs2 alone, with alice (of hs1) as its sender.
      await waitFor('the invite on hs1', async () => (await membership(server1, alice.accessToken, roomId, dave.userId))['membership'] === 'invite');
      const joined = await call(server2.clientUrl, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {}, dave.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      await waitFor('the join on hs1', async () => (await membership(server1, alice.accessToken, roomId, dave.userId))['membership'] === 'join');
    });
  }

  test('exchange_third_party_invite checks the partial event and answers 404 for a room the server is not in', async () => {
    const put = async (roomId: string, content: JsonObject) => {
      const uri = `/_matrix/federation/v1/exchange_third_party_invite/${encodeURIComponent(roomId)}`;
      const request = requestJson({ method: 'PUT', uri, origin: server2.name, destination: server1.name, content });
      const sig = signJson(request, server2.name, server2.signingKey, { strict: false }).signatures[server2.name]![server2.signingKey.keyId]!;
      const authorization = formatXMatrix({ origin: server2.name, destination: server1.name, key: server2.signingKey.keyId, sig });
      return httpsCall(server1.baseUrl, 'PUT', uri, { ca: ca.certPem, headers: { Authorization: authorization }, body: content, servername: server1.name });
    };
    const event: JsonObject = { type: 'm.room.member', room_id: '!nowhere:hs1.test', sender: alice.userId, state_key: '@x:hs2.test', content: { membership: 'invite', third_party_invite: { display_name: 'x', signed: { mxid: '@x:hs2.test', token: 't', signatures: {} } } } };
    const unknown = await put('!nowhere:hs1.test', event);
    assert.deepEqual([unknown.status, unknown.body['errcode']], [404, 'M_NOT_FOUND']);
    const mismatched = await put('!elsewhere:hs1.test', event);
    assert.deepEqual([mismatched.status, mismatched.body['errcode']], [400, 'M_BAD_JSON']);
    assert.match(mismatched.body['error'] as string, /is not !elsewhere:hs1.test, the room in the path/);
    const unsigned = await httpsCall(server1.baseUrl, 'PUT', '/_matrix/federation/v1/exchange_third_party_invite/!nowhere:hs1.test', { ca: ca.certPem, body: event, servername: server1.name });
    assert.equal(unsigned.status, 401);
  });
});
