// The user directory of a server that joins a room through another: the
// room's members and whether it is public come with the join's state (no
// events of their own pass through the server), and once the server's last
// member leaves, the room no longer makes them visible. The joining server
// on each engine, and with search_all_users; rooms in versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call } from '../helpers/client.js';
import { startServerPair, type ServerPair } from '../helpers/federation.js';
import type { Engine } from '../../src/storage/database.js';

type Json = Record<string, unknown>;

const variants: Array<{ engine: Engine; searchAllUsers: boolean }> = [
  { engine: 'sqlite', searchAllUsers: false },
  { engine: 'postgres', searchAllUsers: false },
  // search_all_users finds anyone in the directory: leaving must remove the other server's users too.
  { engine: 'sqlite', searchAllUsers: true },
];

for (const { engine, searchAllUsers } of variants) {
  describe(`user directory of a server joining through another (${engine}${searchAllUsers ? ', search_all_users' : ''})`, () => {
    let pair: ServerPair;
    before(async () => {
      pair = await startServerPair({ hs1: ['alice'], hs2: ['bob'] }, { engine, config: { userDirectory: { enabled: true, searchAllUsers, preferLocalUsers: false } } });
    });
    after(async () => pair.fed.close());

    const found = async (term: string): Promise<string[]> => {
      const { hs2, users: { bob } } = pair;
      const res = await call<{ results: Array<{ user_id: string; display_name?: string }> }>(hs2, 'POST', '/_matrix/client/v3/user_directory/search', { search_term: term }, bob.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.results.map((r) => `${r.user_id} ${r.display_name}`);
    };

    for (const version of ['12', '10']) {
      test(`v${version}: the other server's members are found while the server is in the room, and not after it left`, async () => {
        const { hs1, hs2, users: { alice, bob } } = pair;
        const name = `Zanzibar${version}`;
        assert.equal((await call(hs1, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}/displayname`, { displayname: name }, alice.accessToken)).status, 200);
        const created = await call<Json>(hs1, 'POST', '/_matrix/client/v3/createRoom', { room_version: version, preset: 'public_chat' }, alice.accessToken);
        const roomId = created.body['room_id'] as string;
        assert.deepEqual(await found(name), [], 'nobody shares a room with alice yet');

        const joined = await call(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=hs1.test`, {}, bob.accessToken);
        assert.equal(joined.status, 200, JSON.stringify(joined.body));
        assert.deepEqual(await found(name), [`${alice.userId} ${name}`]);

        assert.equal((await call(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {}, bob.accessToken)).status, 200);
        assert.deepEqual(await found(name), [], 'hs2 left the room: its view of the members is stale');
      });
    }
  });
}
