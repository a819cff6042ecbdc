// A room blocked by an admin (Synapse's block API) keeps this server's users
// out even when the room lives on another server: joining through that
// server and invites arriving from it are refused until the block is lifted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';

const enc = encodeURIComponent;

describe('blocked rooms across servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let alice: TestUser;
  let bob: TestUser;
  let admin2: TestUser;
  const block = (roomId: string, on: boolean) => call(hs2, 'PUT', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`, { block: on }, admin2.accessToken);

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
    admin2 = await registerUser(hs2, 'root');
    await fed.servers[1]!.services.accounts.context.stores.users.setAdmin(admin2.userId, true);
  });
  after(async () => fed.close());

  test('an invite from the room’s server is refused while the room is blocked here', async () => {
    const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { name: 'Elsewhere' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    assert.equal((await block(roomId, true)).status, 200);
    const refused = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await block(roomId, false)).status, 200);
    const invited = await call(hs1, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }, alice.accessToken);
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
  });

  test('joining a blocked room on another server is refused before asking it', async () => {
    const created = await call(hs1, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, alice.accessToken);
    const roomId = created.body.room_id as string;
    await block(roomId, true);
    const refused = await call(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
    assert.deepEqual([refused.status, refused.body.errcode], [403, 'M_FORBIDDEN']);
    await block(roomId, false);
    const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
  });
});
