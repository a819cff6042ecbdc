// Server-side key backup (key_backup.yaml) over real HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

const ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';
const key = (firstMessageIndex: number, forwardedCount: number, isVerified: boolean, tag: string) => ({
  first_message_index: firstMessageIndex,
  forwarded_count: forwardedCount,
  is_verified: isVerified,
  session_data: { ciphertext: tag, ephemeral: 'e', mac: 'm' },
});

for (const engine of ENGINES) {
  describe(`key backup over HTTP (${engine})`, () => {
    let hs: TestHomeserver;
    let n = 0;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) => call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
    const newUser = () => registerUser(hs.baseUrl, `backup${n++}`);

    before(async () => {
      hs = await startTestHomeserver({ engine });
    });
    after(async () => hs.close());

    test('versions: create, read the latest, update auth_data only, delete', async () => {
      const alice = await newUser();
      assert.equal((await api('GET', '/room_keys/version', undefined, alice)).body.errcode, 'M_NOT_FOUND');
      const v1 = await api('POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: { public_key: 'a' } }, alice);
      assert.deepEqual(v1.body, { version: '1' });
      const v2 = await api('POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: { public_key: 'b' } }, alice);
      assert.equal(v2.body.version, '2');
      assert.deepEqual((await api('GET', '/room_keys/version', undefined, alice)).body, { algorithm: ALGORITHM, auth_data: { public_key: 'b' }, version: '2', count: 0, etag: '0' });
      assert.equal((await api('GET', '/room_keys/version/1', undefined, alice)).body.version, '1');
      assert.equal((await api('PUT', '/room_keys/version/2', { algorithm: 'other', auth_data: {} }, alice)).body.errcode, 'M_INVALID_PARAM');
      assert.equal((await api('PUT', '/room_keys/version/2', { algorithm: ALGORITHM, auth_data: {}, version: '1' }, alice)).body.errcode, 'M_INVALID_PARAM');
      assert.equal((await api('PUT', '/room_keys/version/2', { algorithm: ALGORITHM, auth_data: { public_key: 'c' }, version: '2' }, alice)).status, 200);
      assert.deepEqual((await api('GET', '/room_keys/version/2', undefined, alice)).body.auth_data, { public_key: 'c' });
      assert.equal((await api('DELETE', '/room_keys/version/2', undefined, alice)).status, 200);
      assert.equal((await api('GET', '/room_keys/version/2', undefined, alice)).body.errcode, 'M_NOT_FOUND');
      assert.equal((await api('GET', '/room_keys/version', undefined, alice)).body.version, '1');
      const v3 = await api('POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: {} }, alice);
      assert.equal(v3.body.version, '3', 'a deleted version number is not reused');
      const other = await newUser();
      assert.equal((await api('GET', '/room_keys/version/3', undefined, other)).body.errcode, 'M_NOT_FOUND', 'versions are per user');
    });

    test('keys: replacement rule, etag and count, wrong version, the three levels', async () => {
      const alice = await newUser();
      await api('POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: {} }, alice);
      const room = encodeURIComponent('!room:example.org');
      const put = (session: string, data: unknown) => api('PUT', `/room_keys/keys/${room}/${session}?version=1`, data, alice);
      const get = async (session: string) =>
        (await api('GET', `/room_keys/keys/${room}/${session}?version=1`, undefined, alice)).body as { session_data: { ciphertext: string } };

      assert.deepEqual((await put('s1', key(5, 1, false, 'first'))).body, { etag: '1', count: 1 });
      assert.deepEqual((await put('s1', key(6, 0, false, 'worse index'))).body, { etag: '1', count: 1 }, 'a worse key changes nothing');
      assert.equal((await get('s1')).session_data.ciphertext, 'first');
      await put('s1', key(5, 0, false, 'fewer forwards'));
      assert.equal((await get('s1')).session_data.ciphertext, 'fewer forwards');
      await put('s1', key(2, 0, false, 'lower index'));
      assert.equal((await get('s1')).session_data.ciphertext, 'lower index');
      const verified = await put('s1', key(9, 3, true, 'verified'));
      assert.deepEqual(verified.body, { etag: '4', count: 1 });
      assert.equal((await get('s1')).session_data.ciphertext, 'verified', 'verified beats a better index');
      await put('s1', key(0, 0, false, 'unverified'));
      assert.equal((await get('s1')).session_data.ciphertext, 'verified', 'unverified never replaces verified');

      const bulk = await api('PUT', '/room_keys/keys?version=1', { rooms: { '!other:example.org': { sessions: { s2: key(0, 0, false, 'x'), s3: key(0, 0, false, 'y') } } } }, alice);
      assert.deepEqual(bulk.body, { etag: '5', count: 3 });
      const all = await api('GET', '/room_keys/keys?version=1', undefined, alice);
      assert.deepEqual(Object.keys(all.body.rooms as object).sort(), ['!other:example.org', '!room:example.org']);
      const oneRoom = await api('GET', `/room_keys/keys/${encodeURIComponent('!other:example.org')}?version=1`, undefined, alice);
      assert.deepEqual(Object.keys((oneRoom.body.sessions as object)).sort(), ['s2', 's3']);
      assert.deepEqual((await api('GET', `/room_keys/keys/${encodeURIComponent('!empty:x')}?version=1`, undefined, alice)).body, { sessions: {} });
      assert.equal((await api('GET', `/room_keys/keys/${room}/nosuch?version=1`, undefined, alice)).body.errcode, 'M_NOT_FOUND');

      await api('POST', '/room_keys/version', { algorithm: ALGORITHM, auth_data: {} }, alice);
      const wrong = await put('s9', key(0, 0, false, 'old'));
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.errcode, 'M_WRONG_ROOM_KEYS_VERSION');
      assert.equal(wrong.body.current_version, '2');
      assert.equal((await api('PUT', `/room_keys/keys/${room}/s9?version=99`, key(0, 0, false, 'x'), alice)).status, 403);
      assert.equal((await api('PUT', `/room_keys/keys/${room}/s9`, key(0, 0, false, 'x'), alice)).body.errcode, 'M_MISSING_PARAM');
      assert.equal((await api('GET', '/room_keys/keys?version=42', undefined, alice)).body.errcode, 'M_NOT_FOUND');
      assert.equal((await api('PUT', `/room_keys/keys/${room}/s9?version=2`, { first_message_index: 'x' }, alice)).body.errcode, 'M_BAD_JSON');

      const deleted = await api('DELETE', `/room_keys/keys/${encodeURIComponent('!other:example.org')}?version=1`, undefined, alice);
      assert.deepEqual(deleted.body, { etag: '6', count: 1 });
      assert.deepEqual((await api('GET', '/room_keys/version/1', undefined, alice)).body.count, 1);
    });
  });
}
