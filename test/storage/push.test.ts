import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { runMigrations } from '../../src/storage/migrations/index.js';
import { ALL_THREADS, createPushStores, MAIN_THREAD, RulePlacementError, type NewPushAction, type PushStores } from '../../src/storage/push/index.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

const ALICE = '@alice:test';
const BOB = '@bob:test';

function action(eventId: string, streamOrdering: number, extra: Partial<NewPushAction> = {}): NewPushAction {
  return {
    userId: ALICE,
    eventId,
    roomId: '!r:test',
    threadId: MAIN_THREAD,
    streamOrdering,
    ts: 1000 + streamOrdering,
    actions: ['notify'],
    highlight: false,
    ...extra,
  };
}

for (const engine of ENGINES) {
  describe(`push storage (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let stores: PushStores;

    before(async () => {
      db = database.db;
      stores = createPushStores(db);
    });

    test('user rules keep their order: new rules go first, before/after place them', async () => {
      const put = (ruleId: string, placement = {}) => stores.rules.putRule(ALICE, 'content', { ruleId, actions: ['notify'], pattern: ruleId }, placement);
      await put('a');
      await put('b');
      await put('c', { after: 'a' });
      await put('d', { before: 'b' });
      await put('e', { before: 'c', after: 'b' });
      const order = async () => (await stores.rules.userRules(ALICE)).rules?.content?.map((r) => r.rule_id);
      assert.deepEqual(await order(), ['d', 'b', 'a', 'e', 'c']);
      // Updating without placement keeps the rule where it is; enabled survives the update.
      assert.equal(await stores.rules.updateRule(ALICE, 'content', 'a', { enabled: false }), true);
      await stores.rules.putRule(ALICE, 'content', { ruleId: 'a', actions: [], pattern: 'new' }, {});
      const rules = (await stores.rules.userRules(ALICE)).rules!.content!;
      assert.deepEqual(rules.map((r) => r.rule_id), ['d', 'b', 'a', 'e', 'c']);
      assert.deepEqual(rules[2], { rule_id: 'a', default: false, enabled: false, actions: [], pattern: 'new' });
      await assert.rejects(put('f', { before: 'nope' }), RulePlacementError);
      assert.equal(await stores.rules.deleteRule(ALICE, 'content', 'a'), true);
      assert.equal(await stores.rules.deleteRule(ALICE, 'content', 'a'), false);
      assert.equal(await stores.rules.updateRule(ALICE, 'content', 'a', { enabled: true }), false);
    });

    test('changes to default rules merge field by field', async () => {
      await stores.rules.changeDefaultRule(BOB, 'override', '.m.rule.master', { enabled: true });
      await stores.rules.changeDefaultRule(BOB, 'override', '.m.rule.master', { actions: ['notify'] });
      const { defaultChanges } = await stores.rules.userRules(BOB);
      assert.deepEqual(defaultChanges, { override: { '.m.rule.master': { enabled: true, actions: ['notify'] } } });
    });

    test('counts are notifying events after the read marks, per room and per thread', async () => {
      const room = '!counts:test';
      await stores.notifications.add([
        action('$1', 1, { roomId: room }),
        action('$2', 2, { roomId: room, highlight: true }),
        action('$3', 3, { roomId: room, threadId: '$root' }),
        action('$4', 4, { roomId: room, threadId: '$root', highlight: true }),
      ]);
      const counts = async () => (await stores.notifications.countsFor(ALICE, [room, '!empty:test']));
      assert.deepEqual(await counts(), new Map([
        [room, { notification_count: 4, highlight_count: 2 }],
        ['!empty:test', { notification_count: 0, highlight_count: 0 }],
      ]));
      // A threaded receipt on the main timeline leaves the thread unread.
      await stores.notifications.markRead(ALICE, room, MAIN_THREAD, 2);
      assert.deepEqual((await counts()).get(room), { notification_count: 2, highlight_count: 1 });
      assert.deepEqual(await stores.notifications.countsByThread(ALICE, room), new Map([['$root', { notification_count: 2, highlight_count: 1 }]]));
      // An unthreaded receipt covers every thread; marks never move back.
      await stores.notifications.markRead(ALICE, room, ALL_THREADS, 3);
      await stores.notifications.markRead(ALICE, room, ALL_THREADS, 1);
      assert.deepEqual((await counts()).get(room), { notification_count: 1, highlight_count: 1 });
      assert.equal(await stores.notifications.totalUnread(ALICE), 1);
    });

    test('the unread totals are rebuilt from existing notifications when the summary table arrives', async () => {
      const user = '@upgrader:test';
      const room = '!upgrade:test';
      await stores.notifications.add([1, 2, 3, 4, 5].map((n) => action(`$u${n}`, 200 + n, { userId: user, roomId: room, highlight: n === 5, threadId: n === 4 ? '$t' : MAIN_THREAD })));
      await stores.notifications.markRead(user, room, MAIN_THREAD, 202);
      const before = await stores.notifications.countsFor(user, [room]);
      assert.deepEqual(before.get(room), { notification_count: 3, highlight_count: 1 });
      // As on a server upgraded from before migration 9.
      await db.execute('DROP TABLE event_push_summary');
      await db.execute('DELETE FROM schema_migrations WHERE id = 9');
      await runMigrations(db);
      assert.deepEqual(await stores.notifications.countsFor(user, [room]), before);
      assert.deepEqual(await stores.notifications.countsByThread(user, room), new Map([
        [MAIN_THREAD, { notification_count: 2, highlight_count: 1 }],
        ['$t', { notification_count: 1, highlight_count: 0 }],
      ]));
    });

    test('listing notifications pages newest first and says which were read', async () => {
      const user = '@lister:test';
      const room = '!list:test';
      await stores.notifications.add([1, 2, 3, 4].map((n) => action(`$l${n}`, 100 + n, { userId: user, roomId: room, highlight: n % 2 === 0 })));
      await stores.notifications.markRead(user, room, ALL_THREADS, 102);
      const page = await stores.notifications.list(user, { limit: 3, onlyHighlight: false });
      assert.deepEqual(page.map((n) => [n.eventId, n.read]), [['$l4', false], ['$l3', false], ['$l2', true]]);
      const rest = await stores.notifications.list(user, { before: 102, limit: 3, onlyHighlight: false });
      assert.deepEqual(rest.map((n) => n.eventId), ['$l1']);
      const highlights = await stores.notifications.list(user, { limit: 10, onlyHighlight: true });
      assert.deepEqual(highlights.map((n) => n.eventId), ['$l4', '$l2']);
      assert.deepEqual(page[0]!.actions, ['notify']);
    });

    test('a pushkey moves between users unless appended, and device logout removes it', async () => {
      const pusher = (userId: string, deviceId: string) => ({
        userId,
        deviceId,
        kind: 'http',
        appId: 'im.app',
        pushkey: 'key1',
        pushkeyTs: 5000,
        appDisplayName: 'App',
        deviceDisplayName: 'Phone',
        profileTag: null,
        lang: 'en',
        data: { url: 'https://push.example/_matrix/push/v1/notify' },
      });
      await stores.pushers.set(pusher('@p1:test', 'D1'), false);
      await stores.pushers.set(pusher('@p2:test', 'D2'), true);
      assert.equal((await stores.pushers.forUsers(['@p1:test', '@p2:test'])).length, 2);
      await stores.pushers.set(pusher('@p3:test', 'D3'), false);
      assert.deepEqual((await stores.pushers.forUsers(['@p1:test', '@p2:test', '@p3:test'])).map((p) => p.userId), ['@p3:test']);
      const [stored] = await stores.pushers.forUser('@p3:test');
      assert.deepEqual(stored!.data, { url: 'https://push.example/_matrix/push/v1/notify' });
      assert.equal(stored!.pushkeyTs, 5000);
      assert.equal(await stores.pushers.removeForDevices('@p3:test', ['D3']), 1);
      assert.deepEqual(await stores.pushers.forUser('@p3:test'), []);
    });

    test('OpenID tokens resolve until they expire', async () => {
      await stores.openIdTokens.insert('hash1', ALICE, 2000);
      assert.equal(await stores.openIdTokens.findUser('hash1', 1999), ALICE);
      assert.equal(await stores.openIdTokens.findUser('hash1', 2000), undefined);
      assert.equal(await stores.openIdTokens.deleteExpired(2000), 1);
    });
  });
}
