// Other servers' keys on both engines: stored per (server, key ID), a fresher
// response replaces an older one, never the reverse.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, withDatabase } from '../helpers/databases.js';
import { ServerKeyStore, type StoredServerKey } from '../../src/storage/server-keys.js';

function key(overrides: Partial<StoredServerKey>): StoredServerKey {
  return {
    serverName: 'hs2.test',
    keyId: 'ed25519:a',
    verifyKey: 'AAAA',
    validUntilTs: 2_000,
    expiredTs: null,
    fromServer: 'hs2.test',
    fetchedTs: 1_000,
    responseValidUntilTs: 2_000,
    keyJson: '{"v":1}',
    ...overrides,
  };
}

for (const engine of ENGINES) {
  describe(`server keys (${engine})`, () => {
    test('stores keys, keeps the fresher response, reads by key and by server', async () => {
      await withDatabase(engine, async (db) => {
        const store = new ServerKeyStore(db);
        await store.storeKeys([key({}), key({ keyId: 'ed25519:old', expiredTs: 1_500, validUntilTs: 1_500 })]);
        assert.deepEqual(await store.getKey('hs2.test', 'ed25519:a'), key({}));
        assert.equal(await store.getKey('hs2.test', 'ed25519:missing'), undefined);
        // A notary's older copy does not replace it...
        await store.storeKeys([key({ fromServer: 'notary.test', responseValidUntilTs: 1_900, validUntilTs: 1_900, keyJson: '{"v":0}' })]);
        assert.equal((await store.getKey('hs2.test', 'ed25519:a'))!.fromServer, 'hs2.test');
        // ...a newer response does, even when it now lists the key as old.
        await store.storeKeys([key({ responseValidUntilTs: 5_000, validUntilTs: 3_000, expiredTs: 3_000, fetchedTs: 4_000, keyJson: '{"v":2}' })]);
        assert.deepEqual(await store.getKey('hs2.test', 'ed25519:a'), key({ responseValidUntilTs: 5_000, validUntilTs: 3_000, expiredTs: 3_000, fetchedTs: 4_000, keyJson: '{"v":2}' }));
        assert.deepEqual((await store.getKeys('hs2.test')).map((k) => k.keyId), ['ed25519:a', 'ed25519:old']);
        assert.deepEqual(await store.getKeys('other.test'), []);
      });
    });
  });
}
