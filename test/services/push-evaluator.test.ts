import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { roomVersion } from '../../src/core/room-versions.js';
import { stateKeyString, type Event, type JsonObject, type JsonValue } from '../../src/core/types.js';
import { AccountDataStore } from '../../src/storage/accounts/account-data.js';
import type { Database } from '../../src/storage/database.js';
import { createPushStores, type PushStores } from '../../src/storage/push/index.js';
import { RoomStore } from '../../src/storage/rooms/index.js';
import { Notifier } from '../../src/services/notifier.js';
import { ignoredUserIds } from '../../src/services/user-data/account-data.js';
import { PushEvaluator, PushRulesService, PusherDelivery, type RoomStateView } from '../../src/services/push/index.js';
import type { JsonResponse } from '../../src/services/outbound-http.js';
import { useTestDatabase } from '../helpers/databases.js';

const ROOM = '!push:hs';
const ALICE = '@alice:hs';
const BOB = '@bob:hs';
const CAROL = '@carol:hs';
const REMOTE = '@dave:elsewhere';

/** Persists events for real and keeps the room's current state the way the pipeline does. */
class TestRoom implements RoomStateView {
  readonly rules = roomVersion('10')!;
  readonly state = new Map<string, Event>();
  private depth = 0;
  private prev: string[] = [];

  constructor(private readonly store: RoomStore) {}

  async send(sender: string, type: string, content: JsonObject, stateKey?: string): Promise<{ event: Event; streamOrdering: number }> {
    this.depth += 1;
    const event: Event = {
      event_id: `$e${this.depth}`,
      room_id: ROOM,
      type,
      sender,
      content,
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
      origin_server_ts: 1_700_000_000_000 + this.depth,
      depth: this.depth,
      prev_events: this.prev,
      auth_events: [],
      hashes: { sha256: 'x' },
      signatures: {},
    };
    const changed = new Map<string, string>();
    if (stateKey !== undefined) changed.set(stateKeyString(type, stateKey), event.event_id);
    const [persisted] = await this.store.events.persistEvents({
      events: [{ event, json: canonicalJson(event) }],
      currentState: changed.size > 0 ? [{ roomId: ROOM, update: { delta: { changed, removed: [] } } }] : undefined,
    });
    if (stateKey !== undefined) this.state.set(stateKeyString(type, stateKey), event);
    this.prev = [event.event_id];
    return { event, streamOrdering: persisted!.streamOrdering };
  }
}

describe('PushEvaluator over persisted events', () => {
  const database = useTestDatabase('sqlite');
  let db: Database;
  let stores: PushStores;
  let evaluator: PushEvaluator;
  let rules: PushRulesService;
  let delivery: PusherDelivery;
  let room: TestRoom;
  const posts: Array<{ url: string; body: JsonValue }> = [];
  const replies: JsonResponse[] = [];

  before(async () => {
    db = database.db;
    stores = createPushStores(db);
    const roomStore = new RoomStore(db);
    const accountData = new AccountDataStore(db);
    rules = new PushRulesService({ store: stores.rules, accountData, notifier: new Notifier(), legacyMentionRules: true });
    delivery = new PusherDelivery({
      pushers: stores.pushers,
      notifications: stores.notifications,
      post: async (url, body) => {
        posts.push({ url, body });
        return replies.shift() ?? { status: 200, body: { rejected: [] } };
      },
      onError: () => {},
      options: { initialBackoffMs: 1, maxBackoffMs: 4, maxAttempts: 3 },
    });
    evaluator = new PushEvaluator({ serverName: 'hs', rules, notifications: stores.notifications, delivery, events: roomStore.events, clock: () => 42, afterCommit: (task) => db.afterCommit(task), ignoredUsers: async (userId) => ignoredUserIds(await accountData.getGlobal(userId, 'm.ignored_user_list')) });
    room = new TestRoom(roomStore);
    const send = async (sender: string, type: string, content: JsonObject, stateKey?: string) => {
      const { event, streamOrdering } = await room.send(sender, type, content, stateKey);
      await evaluator.onEventPersisted(event, room, streamOrdering);
    };
    await send(ALICE, 'm.room.create', { room_version: '10', creator: ALICE }, '');
    await send(ALICE, 'm.room.member', { membership: 'join', displayname: 'Alice' }, ALICE);
    await send(ALICE, 'm.room.power_levels', { users: { [ALICE]: 100 } }, '');
    for (const user of [BOB, CAROL, REMOTE]) await send(user, 'm.room.member', { membership: 'join', displayname: user.slice(1, 4) }, user);
    await send(BOB, 'm.room.member', { membership: 'join', displayname: 'Bobby Tables' }, BOB);
  });
  after(async () => {
    delivery.stop();
  });

  async function send(sender: string, content: JsonObject, type = 'm.room.message'): Promise<Event> {
    const { event, streamOrdering } = await room.send(sender, type, content);
    await evaluator.onEventPersisted(event, room, streamOrdering);
    return event;
  }

  const counts = async (userId: string) => (await evaluator.countsFor(userId, [ROOM])).get(ROOM);

  test('a message counts for every joined local member except its sender; member events do not', async () => {
    assert.deepEqual(await counts(BOB), { notification_count: 0, highlight_count: 0 });
    await send(ALICE, { msgtype: 'm.text', body: 'hello all' });
    assert.deepEqual(await counts(BOB), { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(await counts(CAROL), { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(await counts(ALICE), { notification_count: 0, highlight_count: 0 });
    assert.deepEqual(await counts(REMOTE), { notification_count: 0, highlight_count: 0 });
  });

  test('the display name from the member event highlights (legacy mention rule) unless m.mentions is present', async () => {
    await send(ALICE, { msgtype: 'm.text', body: 'ping Bobby Tables please' });
    assert.deepEqual(await counts(BOB), { notification_count: 2, highlight_count: 1 });
    await send(ALICE, { msgtype: 'm.text', body: 'Bobby Tables, no ping', 'm.mentions': {} });
    assert.deepEqual(await counts(BOB), { notification_count: 3, highlight_count: 1 });
    await send(ALICE, { msgtype: 'm.text', body: 'explicit', 'm.mentions': { user_ids: [BOB] } });
    assert.deepEqual(await counts(BOB), { notification_count: 4, highlight_count: 2 });
  });

  test('@room highlights only when the sender has the power to notify the room', async () => {
    const before = await counts(CAROL);
    await send(BOB, { msgtype: 'm.text', body: '@room hi', 'm.mentions': { room: true } });
    assert.deepEqual(await counts(CAROL), { notification_count: before!.notification_count + 1, highlight_count: before!.highlight_count });
    await send(ALICE, { msgtype: 'm.text', body: '@room hi', 'm.mentions': { room: true } });
    assert.deepEqual(await counts(CAROL), { notification_count: before!.notification_count + 2, highlight_count: before!.highlight_count + 1 });
  });

  test('sending a message resets the sender\'s count; a receipt resets up to its event', async () => {
    assert.notEqual((await counts(BOB))!.notification_count, 0);
    await send(BOB, { msgtype: 'm.text', body: 'caught up' });
    assert.deepEqual(await counts(BOB), { notification_count: 0, highlight_count: 0 });

    const first = await send(ALICE, { msgtype: 'm.text', body: 'one' });
    await send(ALICE, { msgtype: 'm.text', body: 'two' });
    const firstPos = (await db.queryOne<{ stream_ordering: number }>('SELECT stream_ordering FROM events WHERE event_id = ?', [first.event_id]))!;
    await evaluator.resetCounts(BOB, ROOM, Number(firstPos.stream_ordering));
    assert.deepEqual(await counts(BOB), { notification_count: 1, highlight_count: 0 });
  });

  test('thread messages count under their thread root', async () => {
    await send(CAROL, { msgtype: 'm.text', body: 'caught up' });
    await send(ALICE, { msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } });
    const byThread = await evaluator.countsByThread(CAROL, ROOM);
    assert.deepEqual(byThread, new Map([['$root', { notification_count: 1, highlight_count: 0 }]]));
  });

  test('a disabled rule stops notifying; the user-level change applies at once', async () => {
    const before = await counts(CAROL);
    await rules.setEnabled(CAROL, 'underride', '.m.rule.message', false);
    try {
      await send(ALICE, { msgtype: 'm.text', body: 'quiet' });
      assert.deepEqual(await counts(CAROL), before);
    } finally {
      await rules.setEnabled(CAROL, 'underride', '.m.rule.message', true);
    }
  });

  test('notifying events reach the user\'s http pushers in the gateway format; rejected pushkeys are dropped', async () => {
    await stores.pushers.set(
      {
        userId: BOB,
        deviceId: 'PHONE',
        kind: 'http',
        appId: 'im.test',
        pushkey: 'bob-key',
        pushkeyTs: 1_234_000,
        appDisplayName: 'Test',
        deviceDisplayName: 'Phone',
        profileTag: null,
        lang: 'en',
        data: { url: 'https://gw.example/_matrix/push/v1/notify', extra: 'kept' },
      },
      false,
    );
    posts.length = 0;
    replies.push({ status: 503, body: undefined }, { status: 200, body: { rejected: ['bob-key'] } });
    const event = await send(ALICE, { msgtype: 'm.text', body: 'hey Bobby Tables' });
    await delivery.idle();
    assert.equal(posts.length, 2, 'one failed attempt, then a retry');
    assert.equal(posts[1]!.url, 'https://gw.example/_matrix/push/v1/notify');
    const unread = (await evaluator.countsFor(BOB, [ROOM])).get(ROOM)!.notification_count;
    assert.deepEqual(posts[1]!.body, {
      notification: {
        event_id: event.event_id,
        id: event.event_id,
        room_id: ROOM,
        type: 'm.room.message',
        sender: ALICE,
        sender_display_name: 'Alice',
        content: { msgtype: 'm.text', body: 'hey Bobby Tables' },
        counts: { unread },
        prio: 'high',
        devices: [
          {
            app_id: 'im.test',
            pushkey: 'bob-key',
            pushkey_ts: 1234,
            data: { extra: 'kept' },
            tweaks: { sound: 'default', highlight: true },
          },
        ],
      },
    });
    assert.deepEqual(await stores.pushers.forUser(BOB), [], 'the rejected pushkey is gone');
  });

  test('event_id_only pushers get no event details', async () => {
    await stores.pushers.set(
      {
        userId: CAROL,
        deviceId: null,
        kind: 'http',
        appId: 'im.test',
        pushkey: 'carol-key',
        pushkeyTs: 0,
        appDisplayName: 'Test',
        deviceDisplayName: 'Phone',
        profileTag: null,
        lang: 'en',
        data: { url: 'https://gw.example/_matrix/push/v1/notify', format: 'event_id_only' },
      },
      false,
    );
    posts.length = 0;
    await send(ALICE, { msgtype: 'm.notice', body: 'notices do not notify' });
    const event = await send(ALICE, { msgtype: 'm.text', body: 'secret' });
    await delivery.idle();
    assert.equal(posts.length, 1);
    const notification = (posts[0]!.body as { notification: JsonObject }).notification;
    assert.deepEqual(Object.keys(notification).sort(), ['counts', 'devices', 'event_id', 'id', 'prio', 'room_id']);
    assert.equal(notification.event_id, event.event_id);
    assert.equal(notification.prio, 'low');
  });

  test('inside a transaction, gateway delivery waits for the commit and is dropped by a rollback', async () => {
    // Carol has an http pusher (set by the previous test).
    posts.length = 0;
    await db.transaction(async () => {
      await send(ALICE, { msgtype: 'm.text', body: 'committed' });
      await delivery.idle();
      assert.equal(posts.length, 0, 'nothing is pushed before the commit');
    });
    await delivery.idle();
    assert.equal(posts.length, 1);
    await assert.rejects(
      db.transaction(async () => {
        await send(ALICE, { msgtype: 'm.text', body: 'rolled back' });
        throw new Error('undo');
      }),
    );
    await delivery.idle();
    assert.equal(posts.length, 1, 'a rolled-back event is never pushed');
  });

  test('an invite notifies the invited local user through .m.rule.invite_for_me', async () => {
    const dan = '@dan:hs';
    const { event, streamOrdering } = await room.send(ALICE, 'm.room.member', { membership: 'invite' }, dan);
    await evaluator.onEventPersisted(event, room, streamOrdering);
    const [listed] = await stores.notifications.list(dan, { limit: 1, onlyHighlight: false });
    assert.equal(listed?.eventId, event.event_id);
    assert.deepEqual(listed?.actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
  });
});
