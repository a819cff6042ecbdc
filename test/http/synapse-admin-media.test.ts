// Synapse's media admin API over real HTTP (Synapse docs,
// admin_api/media_admin_api.md): a user's media, quarantine, deletion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerAdmin } from '../helpers/admin.js';
import { MediaFiles } from '../../src/services/media/files.js';

const enc = encodeURIComponent;

for (const engine of ENGINES) {
  describe(`Synapse media admin API (${engine})`, () => {
    let hs: TestHomeserver;
    let admin: TestUser;
    let alice: TestUser;
    const api = (method: string, path: string, body?: unknown, user: TestUser = admin) => call(hs.baseUrl, method, path, body, user.accessToken);
    const upload = async (user: TestUser, text: string, filename: string): Promise<string> => {
      const res = await fetch(`${hs.baseUrl}/_matrix/media/v3/upload?filename=${enc(filename)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'text/plain' },
        body: text,
      });
      const body = (await res.json()) as { content_uri: string };
      assert.equal(res.status, 200);
      return body.content_uri.split('/').pop()!;
    };
    const download = (mediaId: string) =>
      fetch(`${hs.baseUrl}/_matrix/client/v1/media/download/${hs.config.serverName}/${mediaId}`, { headers: { Authorization: `Bearer ${alice.accessToken}` } });

    before(async () => {
      hs = await startTestHomeserver({ engine });
      admin = await registerAdmin(hs, 'root');
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('every route answers a non-admin 403 M_FORBIDDEN', async () => {
      const server = enc(hs.config.serverName);
      const routes: Array<[string, string, unknown?]> = [
        ['GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`],
        ['POST', `/_synapse/admin/v1/media/quarantine/${server}/abcdefgh`, {}],
        ['POST', `/_synapse/admin/v1/media/unquarantine/${server}/abcdefgh`, {}],
        ['DELETE', `/_synapse/admin/v1/media/${server}/abcdefgh`],
        ['DELETE', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`],
        ['GET', `/_synapse/admin/v1/room/${enc('!r:example.org')}/media`],
        ['POST', `/_synapse/admin/v1/room/${enc('!r:example.org')}/media/quarantine`, {}],
        ['POST', `/_synapse/admin/v1/user/${enc(alice.userId)}/media/quarantine`, {}],
      ];
      for (const [method, path, body] of routes) {
        const r = await api(method, path, body, alice);
        assert.deepEqual([r.status, r.body.errcode], [403, 'M_FORBIDDEN'], `${method} ${path}`);
      }
    });

    test("a user's media: Synapse's fields, paging and order", async () => {
      const first = await upload(alice, 'first file', 'a.txt');
      const second = await upload(alice, 'the second file', 'b.txt');
      const list = await api('GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.equal(list.body.total, 2);
      const media = list.body.media as Array<Record<string, unknown>>;
      assert.deepEqual(media.map((m) => m.media_id), [first, second], 'oldest first by default');
      assert.deepEqual({ ...media[1], created_ts: undefined }, {
        media_id: second,
        media_type: 'text/plain',
        media_length: 15,
        upload_name: 'b.txt',
        created_ts: undefined,
        last_access_ts: null,
        quarantined_by: null,
        safe_from_quarantine: false,
      });
      const page = await api('GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media?limit=1&order_by=media_length&dir=b`);
      assert.deepEqual([(page.body.media as Array<{ media_id: string }>)[0]!.media_id, page.body.next_token], [second, 1]);
      const unknown = await api('GET', `/_synapse/admin/v1/users/${enc(`@ghost:${hs.config.serverName}`)}/media`);
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const remote = await api('GET', `/_synapse/admin/v1/users/${enc('@x:elsewhere.example')}/media`);
      assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('quarantined media is served to nobody until released; the admin is recorded', async () => {
      const mediaId = await upload(alice, 'questionable', 'q.txt');
      assert.equal((await download(mediaId)).status, 200);
      const q = await api('POST', `/_synapse/admin/v1/media/quarantine/${enc(hs.config.serverName)}/${mediaId}`, {});
      assert.deepEqual([q.status, q.body], [200, {}]);
      assert.equal((await download(mediaId)).status, 404);
      const listed = (await api('GET', `/_synapse/admin/v1/users/${enc(alice.userId)}/media`)).body.media as Array<{ media_id: string; quarantined_by: string | null }>;
      assert.equal(listed.find((m) => m.media_id === mediaId)!.quarantined_by, admin.userId);
      await api('POST', `/_synapse/admin/v1/media/unquarantine/${enc(hs.config.serverName)}/${mediaId}`, {});
      assert.equal((await download(mediaId)).status, 200);
      const unknown = await api('POST', `/_synapse/admin/v1/media/quarantine/${enc(hs.config.serverName)}/doesnotexist`, {});
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const uncached = await api('POST', '/_synapse/admin/v1/media/quarantine/elsewhere.example/abcdefgh', {});
      assert.deepEqual([uncached.status, uncached.body.errcode], [404, 'M_NOT_FOUND'], 'remote media not in the cache');
      const badId = await api('POST', `/_synapse/admin/v1/media/quarantine/${enc(hs.config.serverName)}/${enc('../etc')}`, {});
      assert.deepEqual([badId.status, badId.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('DELETE removes the row, the thumbnails and the files', async () => {
      const mediaId = await upload(alice, 'to be deleted', 'd.txt');
      const path = new MediaFiles(hs.config.mediaStorePath).contentPath(mediaId);
      assert.ok(existsSync(path));
      const deleted = await api('DELETE', `/_synapse/admin/v1/media/${enc(hs.config.serverName)}/${mediaId}`);
      assert.deepEqual([deleted.status, deleted.body], [200, { deleted_media: [mediaId], total: 1 }]);
      assert.equal(existsSync(path), false);
      assert.equal((await download(mediaId)).status, 404);
      const again = await api('DELETE', `/_synapse/admin/v1/media/${enc(hs.config.serverName)}/${mediaId}`);
      assert.deepEqual([again.status, again.body.errcode], [404, 'M_NOT_FOUND']);
      const remote = await api('DELETE', '/_synapse/admin/v1/media/elsewhere.example/abcdefgh');
      assert.deepEqual([remote.status, remote.body.errcode], [400, 'M_INVALID_PARAM']);
    });
    test("a room's media: listed local and remote, quarantined together", async () => {
      const image = await upload(alice, 'image bytes', 'cat.png');
      const thumb = await upload(alice, 'thumbnail bytes', 'cat-small.png');
      const room = (await api('POST', '/_matrix/client/v3/createRoom', {}, alice)).body.room_id as string;
      const sendImage = (txn: string, content: Record<string, unknown>) =>
        api('PUT', `/_matrix/client/v3/rooms/${enc(room)}/send/m.room.message/${txn}`, content, alice);
      const mxc = (id: string) => `mxc://${hs.config.serverName}/${id}`;
      await sendImage('1', { msgtype: 'm.image', body: 'cat', url: mxc(image), info: { thumbnail_url: mxc(thumb) } });
      await sendImage('2', { msgtype: 'm.image', body: 'dog', url: 'mxc://elsewhere.example/remoteDog' });
      await sendImage('3', { msgtype: 'm.text', body: `just text naming ${mxc('notMedia')}` });

      const listed = await api('GET', `/_synapse/admin/v1/room/${enc(room)}/media`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.deepEqual({ local: (listed.body.local as string[]).sort(), remote: listed.body.remote }, { local: [mxc(image), mxc(thumb)].sort(), remote: ['mxc://elsewhere.example/remoteDog'] });
      const quarantined = await api('POST', `/_synapse/admin/v1/room/${enc(room)}/media/quarantine`, {});
      assert.deepEqual(quarantined.body, { num_quarantined: 2 }, 'the remote media is not in our cache');
      assert.equal((await download(image)).status, 404);
      assert.equal((await download(thumb)).status, 404);
      const unknown = await api('GET', `/_synapse/admin/v1/room/${enc(`!nope:${hs.config.serverName}`)}/media`);
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
    });

    test("all of a user's media: quarantined at once, deleted at once", async () => {
      const carol = await registerUser(hs.baseUrl, 'carol');
      const ids = [await upload(carol, 'one', '1.txt'), await upload(carol, 'two', '2.txt')];
      const q = await api('POST', `/_synapse/admin/v1/user/${enc(carol.userId)}/media/quarantine`, {});
      assert.deepEqual(q.body, { num_quarantined: 2 });
      for (const id of ids) assert.equal((await download(id)).status, 404);
      const deleted = await api('DELETE', `/_synapse/admin/v1/users/${enc(carol.userId)}/media`);
      assert.deepEqual(deleted.body, { deleted_media: ids, total: 2 });
      for (const id of ids) assert.equal(existsSync(new MediaFiles(hs.config.mediaStorePath).contentPath(id)), false);
      assert.equal((await api('GET', `/_synapse/admin/v1/users/${enc(carol.userId)}/media`)).body.total, 0);
    });
  });
}
