// The e2ee stores on both engines: one-time keys handed out exactly once under
// concurrent claims, the to-device inbox, device-list rows, key backups.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, withDatabase } from '../helpers/databases.js';
import { createE2eeStores } from '../../src/storage/e2ee/index.js';

for (const engine of ENGINES) {
  describe(`e2ee storage (${engine})`, () => {
    test('concurrent claims take distinct one-time keys, then nothing; the fallback key stays claimable', async () => {
      await withDatabase(engine, async (db) => {
        const { keys } = createE2eeStores(db);
        const otks = ['A', 'B', 'C'].map((id) => ({ algorithm: 'signed_curve25519', keyId: id, key: { key: id } }));
        await db.transaction((tx) => keys.addOneTimeKeys(tx, '@a:hs', 'DEV', otks));
        const claims = await Promise.all(Array.from({ length: 8 }, () => keys.claimOneTimeKey('@a:hs', 'DEV', 'signed_curve25519')));
        const got = claims.filter((c) => c !== undefined).map((c) => c!.keyId).sort();
        assert.deepEqual(got, ['A', 'B', 'C']);
        assert.deepEqual(await keys.oneTimeKeyCounts('@a:hs', 'DEV'), {});
        await db.transaction((tx) => keys.setFallbackKey(tx, '@a:hs', 'DEV', { algorithm: 'signed_curve25519', keyId: 'F', key: { key: 'f', fallback: true } }));
        assert.deepEqual(await keys.unusedFallbackKeyTypes('@a:hs', 'DEV'), ['signed_curve25519']);
        assert.equal((await keys.claimFallbackKey('@a:hs', 'DEV', 'signed_curve25519'))?.keyId, 'F');
        assert.equal((await keys.claimFallbackKey('@a:hs', 'DEV', 'signed_curve25519'))?.keyId, 'F');
        assert.deepEqual(await keys.unusedFallbackKeyTypes('@a:hs', 'DEV'), []);
        await db.transaction((tx) => keys.deleteDevices(tx, '@a:hs', ['DEV']));
        assert.equal(await keys.claimFallbackKey('@a:hs', 'DEV', 'signed_curve25519'), undefined);
      });
    });

    test('to-device inbox: positions in order, reads in a window, deletes up to a position, txn IDs once', async () => {
      await withDatabase(engine, async (db) => {
        const { toDevice } = createE2eeStores(db);
        const message = (i: number) => ({ userId: '@b:hs', deviceId: 'D', message: { type: 't', sender: '@a:hs', content: { i } } });
        const last = await db.transaction((tx) => toDevice.enqueue(tx, [message(0), message(1), message(2)]));
        assert.equal(last, 3);
        assert.equal(await toDevice.currentPosition(), 3);
        assert.deepEqual((await toDevice.messagesFor('@b:hs', 'D', 1, 3, 10)).map((m) => m.streamId), [2, 3]);
        assert.equal(await toDevice.deleteUpTo('@b:hs', 'D', 2), 2);
        assert.deepEqual((await toDevice.messagesFor('@b:hs', 'D', 0, 3, 10)).map((m) => m.message.content.i), [2]);
        assert.equal(await toDevice.claimTxn(db, '@a:hs', 'X', 'txn', 1), true);
        assert.equal(await toDevice.claimTxn(db, '@a:hs', 'X', 'txn', 2), false);
      });
    });

    test('device lists: viewer rows keep the latest kind per user', async () => {
      await withDatabase(engine, async (db) => {
        const { deviceLists } = createE2eeStores(db);
        const p1 = await db.transaction((tx) => deviceLists.recordViewerChanges(tx, [{ viewerUserId: '@v:hs', userId: '@u:hs', kind: 'changed' }]));
        const p2 = await db.transaction((tx) => deviceLists.recordViewerChanges(tx, [{ viewerUserId: '@v:hs', userId: '@u:hs', kind: 'left' }]));
        assert.ok(p2 > p1);
        assert.deepEqual([...(await deviceLists.viewerChanges('@v:hs', 0, p2))], [['@u:hs', 'left']]);
        assert.deepEqual([...(await deviceLists.viewerChanges('@v:hs', 0, p1))], [['@u:hs', 'changed']]);
        const p3 = await db.transaction((tx) => deviceLists.recordKeyChanges(tx, ['@v:hs']));
        assert.deepEqual(await deviceLists.keyChangesVisibleTo('@v:hs', p2, p3), ['@v:hs']);
        assert.deepEqual(await deviceLists.keyChangesVisibleTo('@other:hs', p2, p3), [], 'no shared room');
      });
    });

    test('key backup: version numbers are never reused, keys go with their version', async () => {
      await withDatabase(engine, async (db) => {
        const { keyBackup } = createE2eeStores(db);
        const v1 = await keyBackup.createVersion('@a:hs', 'alg', { k: 1 });
        await keyBackup.putKey(db, '@a:hs', v1, '!r', 's', { firstMessageIndex: 0, forwardedCount: 0, isVerified: true, sessionData: { x: 1 } });
        assert.equal(await keyBackup.count(db, '@a:hs', v1), 1);
        assert.equal(await keyBackup.deleteVersion('@a:hs', v1), true);
        assert.equal(await keyBackup.count(db, '@a:hs', v1), 0);
        assert.equal(await keyBackup.createVersion('@a:hs', 'alg', {}), v1 + 1);
        assert.equal((await keyBackup.getVersion(db, '@a:hs'))?.version, v1 + 1);
      });
    });
  });
}
