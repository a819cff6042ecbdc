// /send transactions: per-PDU results (never a failed request for a bad
// PDU), each room's PDUs in order, the spec's size limits, EDUs to their
// handlers, and a repeated transaction ID answered without redoing anything.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, JsonObject, JsonValue } from '../../src/core/types.js';
import { FederatedEventHandler } from '../../src/federation/inbound/event-handler.js';
import { TransactionReceiver } from '../../src/federation/inbound/transactions.js';
import { ReceivedTransactionStore } from '../../src/storage/received-transactions.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';
import { PipelineRooms } from '../helpers/pipeline-room.js';
import { FakeFetcher, FakeRemoteServer, fakeSigningKeys } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';

for (const engine of ENGINES) {
  describe(`federation transactions (${engine})`, () => {
    const database = useTestDatabase(engine);
    const remote = new FakeRemoteServer('remote.test');
    let rooms: PipelineRooms;
    let receiver: TransactionReceiver;
    const edus: Array<[string, JsonObject]> = [];

    before(() => {
      rooms = new PipelineRooms(database.db, '12');
      const events = new FederatedEventHandler({ pipeline: rooms.pipeline, fetcher: new FakeFetcher(remote), signingKeys: fakeSigningKeys(remote), log: () => undefined });
      receiver = new TransactionReceiver({ events, store: rooms.store, transactions: new ReceivedTransactionStore(database.db), clock: () => Date.now(), log: () => undefined });
      receiver.onEdu('m.typing', async (origin, content) => {
        edus.push([origin, content]);
      });
    });

    const roomWithBob = async (): Promise<{ roomId: string; bobJoin: Event }> => {
      const roomId = await rooms.createRoom();
      const join = remote.event(rooms.rules, roomId, {
        type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' },
        prev: await rooms.tip(roomId), auth: await rooms.auth(roomId, await rooms.state(roomId, 'm.room.join_rules')),
      });
      await receiver.receive('remote.test', `join-${roomId}`, { pdus: [join.pdu as unknown as JsonValue] });
      return { roomId, bobJoin: join.event };
    };

    test('each PDU gets a result; a malformed one an error, a rejected one none', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const auth = await rooms.auth(roomId, bobJoin);
      const good = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'one' }, prev: [bobJoin], auth });
      const next = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'two' }, prev: [good.event], auth });
      const intruder = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: '@eve:remote.test', content: { body: 'x' }, prev: [next.event], auth: await rooms.auth(roomId) });
      const broken = { ...(next.pdu as unknown as JsonObject), depth: 'x' };
      const response = await receiver.receive('remote.test', 't1', { pdus: [good.pdu, next.pdu, intruder.pdu, broken] as unknown as JsonValue[] });
      const results = response['pdus'] as JsonObject;
      assert.deepEqual(results[good.event.event_id], {});
      assert.deepEqual(results[intruder.event.event_id], {}, 'rejected, which is not an error of the transaction');
      assert.deepEqual(results[next.event.event_id], {});
      const errors = Object.values(results).map((r) => (r as JsonObject)['error']).filter((e) => e !== undefined);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /malformed.*depth/, 'the broken PDU, under the ID its own hash gives');
      const timeline = await rooms.timelineIds(roomId);
      assert.deepEqual(timeline.slice(-2), [good.event.event_id, next.event.event_id], 'in order');
    });

    test('a transaction ID seen before gets the same answer and nothing is done twice', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const m = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'once' }, prev: [bobJoin], auth: await rooms.auth(roomId, bobJoin) });
      const typing = { edu_type: 'm.typing', content: { room_id: roomId, user_id: BOB, typing: true } };
      const before = edus.length;
      const first = await receiver.receive('remote.test', 'repeat', { pdus: [m.pdu as unknown as JsonValue], edus: [typing] });
      const second = await receiver.receive('remote.test', 'repeat', { pdus: [m.pdu as unknown as JsonValue], edus: [typing] });
      assert.deepEqual(second, first);
      assert.equal(edus.length, before + 1, 'the EDU was handled once');
      assert.deepEqual(edus.at(-1), ['remote.test', typing.content]);
    });

    test('more than 50 PDUs or 100 EDUs is refused as a whole', async () => {
      await assert.rejects(receiver.receive('remote.test', 'big', { pdus: Array.from({ length: 51 }, () => ({})) }), { errcode: 'M_BAD_JSON' });
      await assert.rejects(receiver.receive('remote.test', 'big2', { pdus: [], edus: Array.from({ length: 101 }, () => ({})) }), { errcode: 'M_BAD_JSON' });
      await assert.rejects(receiver.receive('remote.test', 'bad', 'nope'), { errcode: 'M_BAD_JSON' });
    });
  });
}
