// Presence in /sync (client-server-api/modules/presence.md): an initial sync
// carries the user's own presence, even one never set; the incremental sync
// that reports a join carries the current presence of the room's members,
// however long ago it last changed, and the one that reports someone joining
// the user's room carries the newcomer's (as Synapse's sync does).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`presence in /sync (${engine})`, () => {
    let hs: TestHomeserver;
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `${V3}${path}`, body, user.accessToken);
    const sync = async (user: TestUser, query: Record<string, string>) => {
      const res = await api('GET', `/sync?${new URLSearchParams({ timeout: '0', ...query })}`, undefined, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const presenceOf = (body: Json, user: TestUser) => (body.presence?.events as Json[] | undefined)?.find((e) => e.sender === user.userId)?.content;

    before(async () => {
      hs = await startTestHomeserver({ engine });
    });
    after(async () => hs.close());

    test('an initial sync carries the user’s own presence, offline when never set', async () => {
      const newcomer = await registerUser(hs.baseUrl, 'newcomer');
      assert.deepEqual(presenceOf(await sync(newcomer, { set_presence: 'offline' }), newcomer), { presence: 'offline' });
      await api('PUT', `/presence/${enc(newcomer.userId)}/status`, { presence: 'unavailable', status_msg: 'away' }, newcomer);
      const again = presenceOf(await sync(newcomer, { set_presence: 'offline' }), newcomer);
      assert.deepEqual([again?.presence, again?.status_msg], ['unavailable', 'away']);
    });

    for (const version of ['10', '12']) {
      test(`the sync that reports a join brings the members’ presence, set long before (v${version})`, async () => {
        const [host, guest] = await Promise.all([registerUser(hs.baseUrl, `host${version}`), registerUser(hs.baseUrl, `joiner${version}`)]);
        const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, host)).body.room_id as string;
        await api('PUT', `/presence/${enc(host.userId)}/status`, { presence: 'online', status_msg: 'hosting' }, host);
        const first = await sync(guest, { set_presence: 'offline' });
        assert.equal(presenceOf(first, host), undefined, 'no room shared yet');
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, guest)).status, 200);
        const joined = await sync(guest, { since: first.next_batch, set_presence: 'offline' });
        assert.ok(joined.rooms.join[roomId], 'this sync reports the join');
        assert.equal(presenceOf(joined, host)?.status_msg, 'hosting');
        const quiet = await sync(guest, { since: joined.next_batch, set_presence: 'offline' });
        assert.equal(presenceOf(quiet, host), undefined, 'sent once, with the join');
      });

      test(`a member who never set a presence is offline in the sync that reports the join (v${version})`, async () => {
        const [silent, joiner] = await Promise.all([registerUser(hs.baseUrl, `silent${version}`), registerUser(hs.baseUrl, `arrival${version}`)]);
        const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, silent)).body.room_id as string;
        const first = await sync(joiner, { set_presence: 'offline' });
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, joiner)).status, 200);
        const joined = await sync(joiner, { since: first.next_batch, set_presence: 'offline' });
        assert.deepEqual(presenceOf(joined, silent), { presence: 'offline' }, 'as Synapse: the default state');
      });

      test(`the sync that reports someone joining the user's room brings the newcomer's presence, set long before (v${version})`, async () => {
        const [host, visitor] = await Promise.all([registerUser(hs.baseUrl, `owner${version}`), registerUser(hs.baseUrl, `visitor${version}`)]);
        const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: version }, host)).body.room_id as string;
        await api('PUT', `/presence/${enc(visitor.userId)}/status`, { presence: 'online', status_msg: 'visiting' }, visitor);
        const first = await sync(host, { set_presence: 'offline' });
        assert.equal(presenceOf(first, visitor), undefined, 'no room shared yet');
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, visitor)).status, 200);
        const joined = await sync(host, { since: first.next_batch, set_presence: 'offline' });
        assert.ok((joined.rooms.join[roomId].timeline.events as Json[]).some((e) => e.type === 'm.room.member' && e.state_key === visitor.userId), 'this sync reports the join');
        assert.equal(presenceOf(joined, visitor)?.status_msg, 'visiting');
        const quiet = await sync(host, { since: joined.next_batch, set_presence: 'offline' });
        assert.equal(presenceOf(quiet, visitor), undefined, 'sent once, with the join');
      });
    }
  });
}
