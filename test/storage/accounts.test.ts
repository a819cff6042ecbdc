import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccountStores } from '../../src/storage/accounts/index.js';
import { ENGINES, withDatabase } from '../helpers/databases.js';

for (const engine of ENGINES) {
  describe(`accounts storage: ${engine}`, () => {
    test('users: create once, flags round-trip, taken IDs are refused', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        assert.equal(await s.users.create({ userId: '@a:hs', passwordHash: 'h', isAdmin: true, createdTs: 5 }), true);
        assert.equal(await s.users.create({ userId: '@a:hs', passwordHash: 'x', createdTs: 6 }), false);
        assert.deepEqual(await s.users.get('@a:hs'), {
          userId: '@a:hs', passwordHash: 'h', isAdmin: true, isGuest: false, deactivated: false, locked: false, suspended: false, createdTs: 5,
        });
        await s.users.create({ userId: '@b:hs', passwordHash: null, createdTs: 6 });
        await s.users.setLocked('@a:hs', true);
        await s.users.setSuspended('@a:hs', true);
        await s.users.setSuspended('@b:hs', true);
        await s.users.setSuspended('@b:hs', false);
        assert.deepEqual([(await s.users.get('@a:hs'))?.locked, (await s.users.get('@a:hs'))?.suspended], [true, true]);
        assert.deepEqual(await s.users.listSuspended(), ['@a:hs']);
        await s.users.setDeactivated('@a:hs', true);
        await s.users.setPasswordHash('@a:hs', null);
        const user = await s.users.get('@a:hs');
        assert.equal(user?.deactivated, true);
        assert.equal(user?.passwordHash, null);
        assert.equal(await s.users.get('@nobody:hs'), undefined);
        assert.equal(await s.users.nextGeneratedLocalpart(), 1);
        assert.equal(await s.users.nextGeneratedLocalpart(), 2);
      });
    });

    test('devices and access tokens: lookup by hash, deletion per device and per user', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        await s.users.create({ userId: '@a:hs', passwordHash: null, isGuest: true, createdTs: 1 });
        assert.equal(await s.devices.createIfAbsent('@a:hs', 'D1', 'phone', 1), true);
        assert.equal(await s.devices.createIfAbsent('@a:hs', 'D1', 'other name', 2), false);
        await s.devices.createIfAbsent('@a:hs', 'D2', null, 3);
        assert.equal((await s.devices.get('@a:hs', 'D1'))?.displayName, 'phone');
        const id1 = await s.accessTokens.insert('hash1', '@a:hs', 'D1', 1);
        const id2 = await s.accessTokens.insert('hash2', '@a:hs', 'D2', 1);
        assert.notEqual(id1, id2);
        assert.deepEqual(await s.accessTokens.findByHash('hash2'), {
          tokenId: id2, userId: '@a:hs', deviceId: 'D2', isGuest: true, isAdmin: false, deactivated: false, locked: false,
        });
        await s.devices.updateLastSeen('@a:hs', 'D2', '10.0.0.1', 'ua', 99);
        const d2 = await s.devices.get('@a:hs', 'D2');
        assert.equal(d2?.lastSeenIp, '10.0.0.1');
        assert.equal(d2?.lastSeenTs, 99);
        assert.equal(await s.devices.setDisplayName('@a:hs', 'D9', 'x'), false);
        assert.equal(await s.accessTokens.deleteForUser('@a:hs', 'D1'), 1);
        assert.equal(await s.accessTokens.findByHash('hash2'), undefined);
        assert.ok(await s.accessTokens.findByHash('hash1'));
        assert.equal(await s.devices.deleteAll('@a:hs', 'D1'), 1);
        assert.deepEqual((await s.devices.list('@a:hs')).map((d) => d.deviceId), ['D1']);
        assert.equal(await s.accessTokens.deleteForDevices('@a:hs', ['D1']), 1);
        assert.equal(await s.devices.delete('@a:hs', ['D1']), 1);
      });
    });

    test('resolved access tokens are cached, and a deletion or flag change is seen at once', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        await s.users.create({ userId: '@a:hs', passwordHash: null, createdTs: 1 });
        await s.accessTokens.insert('hash1', '@a:hs', 'D1', 1);
        await s.accessTokens.insert('hash2', '@a:hs', 'D2', 1);
        assert.equal((await s.accessTokens.findByHash('hash1'))?.isAdmin, false);
        // A cached resolution: the row can go behind the store's back without it noticing.
        await db.execute('UPDATE users SET is_admin = 1 WHERE user_id = ?', ['@a:hs']);
        assert.equal((await s.accessTokens.findByHash('hash1'))?.isAdmin, false);
        // Through the stores, flag changes and deletions drop the cached entries.
        await s.users.setAdmin('@a:hs', true);
        assert.equal((await s.accessTokens.findByHash('hash1'))?.isAdmin, true);
        await s.users.setDeactivated('@a:hs', true);
        assert.equal((await s.accessTokens.findByHash('hash1'))?.deactivated, true);
        await s.accessTokens.deleteForDevices('@a:hs', ['D1']);
        assert.equal(await s.accessTokens.findByHash('hash1'), undefined);

        // A look-up racing an uncommitted deletion reads the old row (the
        // deletion is not visible to it yet); it must not outlive the commit.
        assert.ok(await s.accessTokens.findByHash('hash2'));
        let startLookup!: () => void;
        // Chained here, outside the transaction, so the look-up does not join it.
        const lookup = new Promise<void>((resolve) => (startLookup = resolve)).then(() => s.accessTokens.findByHash('hash2'));
        await db.transaction(async () => {
          await s.accessTokens.deleteForUser('@a:hs');
          startLookup();
          // SQLite's reader and PostgreSQL's other connections still see the row.
          assert.ok(await lookup);
        });
        assert.equal(await s.accessTokens.findByHash('hash2'), undefined);
      });
    });

    test('profiles: created with a displayname, fields set independently', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        await s.profiles.create('@a:hs', { displayname: 'a', avatarUrl: null });
        await s.profiles.setAvatarUrl('@a:hs', 'mxc://hs/x');
        assert.deepEqual(await s.profiles.get('@a:hs'), { displayname: 'a', avatarUrl: 'mxc://hs/x' });
        await s.profiles.setDisplayname('@b:hs', 'B');
        assert.deepEqual(await s.profiles.get('@b:hs'), { displayname: 'B', avatarUrl: null });
      });
    });

    test('account data: global and room values, one stream position per write, changes after a position', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        assert.equal(await s.accountData.currentStreamId(), 0);
        const p1 = await s.accountData.setGlobal('@a:hs', 'm.push_rules', { a: 1 });
        const p2 = await s.accountData.setRoom('@a:hs', '!r:hs', 'm.tag', { tags: {} });
        const p3 = await s.accountData.setGlobal('@b:hs', 'x', { b: true });
        const p4 = await s.accountData.setGlobal('@a:hs', 'm.push_rules', { a: 2 });
        assert.deepEqual([p1, p2, p3, p4], [1, 2, 3, 4]);
        assert.equal(await s.accountData.currentStreamId(), 4);
        assert.deepEqual(await s.accountData.getGlobal('@a:hs', 'm.push_rules'), { a: 2 });
        assert.deepEqual(await s.accountData.getRoom('@a:hs', '!r:hs', 'm.tag'), { tags: {} });
        assert.equal(await s.accountData.getGlobal('@a:hs', 'm.tag'), undefined);
        // Global values (and their absence) are cached; a write replaces them, in a transaction from its commit.
        assert.equal(await s.accountData.getGlobal('@c:hs', 'm.ignored_user_list'), undefined);
        await s.accountData.setGlobal('@c:hs', 'm.ignored_user_list', { ignored_users: { '@x:hs': {} } });
        assert.deepEqual(await s.accountData.getGlobal('@c:hs', 'm.ignored_user_list'), { ignored_users: { '@x:hs': {} } });
        await db.transaction(async () => {
          await s.accountData.setGlobal('@c:hs', 'm.ignored_user_list', { ignored_users: {} });
        });
        assert.deepEqual(await s.accountData.getGlobal('@c:hs', 'm.ignored_user_list'), { ignored_users: {} });
        assert.deepEqual(await s.accountData.listGlobal('@a:hs'), { 'm.push_rules': { a: 2 } });
        assert.deepEqual([...(await s.accountData.listRooms('@a:hs'))], [['!r:hs', { 'm.tag': { tags: {} } }]]);
        assert.deepEqual(await s.accountData.changesSince('@a:hs', 1), [
          { roomId: '!r:hs', type: 'm.tag', content: { tags: {} }, streamId: 2 },
          { roomId: null, type: 'm.push_rules', content: { a: 2 }, streamId: 4 },
        ]);
        assert.deepEqual((await s.accountData.changesSince('@a:hs', 0, 3)).map((c) => c.streamId), [2]);
      });
    });

    test('registration tokens: reservation respects uses_allowed and expiry', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        assert.equal(await s.registrationTokens.create('one', 1, null), true);
        assert.equal(await s.registrationTokens.create('one', 5, null), false);
        await s.registrationTokens.create('old', null, 100);
        assert.equal(await s.registrationTokens.isUsable('old', 99), true);
        assert.equal(await s.registrationTokens.reserve('old', 100), false);
        assert.equal(await s.registrationTokens.reserve('one', 0), true);
        assert.equal(await s.registrationTokens.reserve('one', 0), false);
        await s.registrationTokens.release('one');
        assert.equal(await s.registrationTokens.reserve('one', 0), true);
        await s.registrationTokens.complete('one');
        assert.deepEqual(await s.registrationTokens.get('one'), {
          token: 'one', usesAllowed: 1, pending: 0, completed: 1, expiryTime: null,
        });
        assert.deepEqual((await s.registrationTokens.list({ valid: false, now: 200 })).map((t) => t.token), ['old', 'one']);
        assert.equal(await s.registrationTokens.update('one', { usesAllowed: null }), true);
        assert.deepEqual((await s.registrationTokens.list({ valid: true, now: 200 })).map((t) => t.token), ['one']);
        assert.equal(await s.registrationTokens.update('nope', { usesAllowed: 1 }), false);
        assert.equal(await s.registrationTokens.delete('one'), true);
        assert.equal(await s.registrationTokens.delete('one'), false);
      });
    });

    test('UIA sessions: stages and token round-trip; expiry listing', async () => {
      await withDatabase(engine, async (db) => {
        const s = createAccountStores(db);
        await s.uiaSessions.create('S', 'register', 10);
        await s.uiaSessions.setCompletedStages('S', ['m.login.registration_token']);
        await s.uiaSessions.setRegistrationToken('S', 'tok');
        assert.deepEqual(await s.uiaSessions.get('S'), {
          sessionId: 'S', operation: 'register', completedStages: ['m.login.registration_token'], registrationToken: 'tok', createdTs: 10,
        });
        assert.deepEqual((await s.uiaSessions.listCreatedBefore(11)).map((x) => x.sessionId), ['S']);
        assert.deepEqual(await s.uiaSessions.listCreatedBefore(10), []);
        await s.uiaSessions.delete('S');
        assert.equal(await s.uiaSessions.get('S'), undefined);
      });
    });
  });
}
