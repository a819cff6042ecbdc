import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

interface Notification {
  actions: unknown[];
  event: { event_id: string; type: string; sender: string; content: Record<string, unknown>; room_id: string };
  read: boolean;
  room_id: string;
  ts: number;
}
interface Page {
  notifications: Notification[];
  next_token?: string;
  errcode?: string;
}

describe('GET /notifications and unread counts', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  const sent: string[] = [];
  let txn = 0;

  const send = async (user: TestUser, body: string): Promise<string> => {
    const res = await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/n${++txn}`, { msgtype: 'm.text', body }, user.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id as string;
  };
  const notifications = (query = '') => call<Page>(hs.baseUrl, 'GET', `/_matrix/client/v3/notifications${query}`, undefined, bob.accessToken);

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
    const created = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, alice.accessToken);
    roomId = created.body.room_id as string;
    assert.equal((await call(hs.baseUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, bob.accessToken)).status, 200);
    sent.push(await send(alice, 'first'));
    sent.push(await send(alice, 'is bob around?'));
    sent.push(await send(alice, 'third'));
  });
  after(async () => hs.close());

  test('lists notifying events newest first, in client format, with their actions', async () => {
    const res = await notifications();
    assert.equal(res.status, 200);
    const list = res.body.notifications;
    assert.deepEqual(list.map((n) => n.event.event_id), [...sent].reverse());
    assert.equal(res.body.next_token, undefined);
    const mention = list[1]!;
    assert.equal(mention.room_id, roomId);
    assert.equal(mention.read, false);
    assert.equal(typeof mention.ts, 'number');
    assert.deepEqual(mention.event.content, { msgtype: 'm.text', body: 'is bob around?' });
    assert.equal(mention.event.sender, alice.userId);
    assert.equal((mention.event as Record<string, unknown>).auth_events, undefined, 'client format, not the PDU');
    assert.deepEqual(mention.actions, ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }]);
  });

  test('pages with limit and next_token; only=highlight filters', async () => {
    const first = await notifications('?limit=2');
    assert.deepEqual(first.body.notifications.map((n) => n.event.event_id), [sent[2], sent[1]]);
    assert.ok(first.body.next_token);
    const rest = await notifications(`?limit=2&from=${first.body.next_token}`);
    assert.deepEqual(rest.body.notifications.map((n) => n.event.event_id), [sent[0]]);
    assert.equal(rest.body.next_token, undefined);
    const highlights = await notifications('?only=highlight');
    assert.deepEqual(highlights.body.notifications.map((n) => n.event.event_id), [sent[1]]);
    const bad = await notifications('?from=yesterday');
    assert.deepEqual([bad.status, bad.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  test('counts for /sync, and sending a message marks everything read', async () => {
    const evaluator = hs.server.services.push.evaluator;
    assert.deepEqual((await evaluator.countsFor(bob.userId, [roomId])).get(roomId), { notification_count: 3, highlight_count: 1 });
    assert.deepEqual((await evaluator.countsFor(alice.userId, [roomId])).get(roomId), { notification_count: 0, highlight_count: 0 });
    await send(bob, 'read it all');
    assert.deepEqual((await evaluator.countsFor(bob.userId, [roomId])).get(roomId), { notification_count: 0, highlight_count: 0 });
    const { body } = await notifications();
    assert.deepEqual(body.notifications.map((n) => n.read), [true, true, true]);
  });

  test('a read receipt over HTTP resets the counts up to its event', async () => {
    const evaluator = hs.server.services.push.evaluator;
    await send(alice, 'one');
    const second = await send(alice, 'two');
    await send(alice, 'three');
    assert.equal((await evaluator.countsFor(bob.userId, [roomId])).get(roomId)?.notification_count, 3);
    const receipt = await call(hs.baseUrl, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(second)}`, {}, bob.accessToken);
    assert.equal(receipt.status, 200);
    assert.equal((await evaluator.countsFor(bob.userId, [roomId])).get(roomId)?.notification_count, 1);
  });
});
