// A profile change reaches rooms on other servers: the member event the
// user's server re-sends after PUT /profile/{userId}/displayname goes out
// through the event pipeline like any other, so the room's other server
// shows the new name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation } from '../helpers/federation.js';
import { waitFor } from '../helpers/wait.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('profile changes across servers', () => {
  let fed: Federation;
  let hs1: string;
  let hs2: string;
  let alice: TestUser;
  let bob: TestUser;
  const v3 = (path: string) => `/_matrix/client/v3${path}`;
  const enc = encodeURIComponent;

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    hs1 = fed.servers[0]!.clientUrl;
    hs2 = fed.servers[1]!.clientUrl;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
  });
  after(async () => fed.close());

  for (const version of ['12', '10']) {
    test(`v${version}: a remote member's new display name and avatar reach the room's server`, async () => {
      const created = await call<Json>(hs1, 'POST', v3('/createRoom'), { preset: 'public_chat', room_version: version }, alice.accessToken);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body.room_id as string;
      const joined = await call<Json>(hs2, 'POST', v3(`/join/${enc(roomId)}?server_name=hs1.test`), {}, bob.accessToken);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      const name = `Bob of hs2 (v${version})`;
      assert.equal((await call(hs2, 'PUT', v3(`/profile/${enc(bob.userId)}/displayname`), { displayname: name }, bob.accessToken)).status, 200);
      assert.equal((await call(hs2, 'PUT', v3(`/profile/${enc(bob.userId)}/avatar_url`), { avatar_url: `mxc://hs2.test/bob${version}` }, bob.accessToken)).status, 200);
      const seen = await waitFor('bob’s new profile on hs1', async () => {
        const member = await call<Json>(hs1, 'GET', v3(`/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`), undefined, alice.accessToken);
        return member.body.avatar_url === `mxc://hs2.test/bob${version}` && member.body;
      });
      assert.deepEqual(seen, { membership: 'join', displayname: name, avatar_url: `mxc://hs2.test/bob${version}` });
    });
  }
});
