// Events received from another server enter the room through the same
// pipeline as local ones (server-server-api "Checks performed on receipt of
// a PDU", steps 4–6): rejected, soft-failed or accepted, with the current
// state resolved across forks. Room versions 10 and 12, both engines.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stateKeyString, type Event } from '../../src/core/types.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';
import { ALICE, PipelineRooms } from '../helpers/pipeline-room.js';
import { FakeRemoteServer } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';
const CAROL = '@carol:remote.test';

for (const engine of ENGINES) {
  for (const version of ['10', '12']) {
    describe(`received events, room version ${version} (${engine})`, () => {
      const database = useTestDatabase(engine);
      const remote = new FakeRemoteServer('remote.test');
      let rooms: PipelineRooms;
      before(() => {
        rooms = new PipelineRooms(database.db, version);
      });
      const createRoom = () => rooms.createRoom();
      const state = (roomId: string, type: string, stateKey = '') => rooms.state(roomId, type, stateKey);
      const auth = (roomId: string, ...more: Event[]) => rooms.auth(roomId, ...more);
      const tip = (roomId: string) => rooms.tip(roomId);
      const timelineIds = (roomId: string) => rooms.timelineIds(roomId);

      const joinBob = async (roomId: string): Promise<Event> => {
        const join = remote.event(rooms.rules, roomId, {
          type: 'm.room.member',
          sender: BOB,
          stateKey: BOB,
          content: { membership: 'join' },
          prev: await tip(roomId),
          auth: await auth(roomId, await state(roomId, 'm.room.join_rules')),
        });
        assert.equal((await rooms.pipeline.receive(roomId, join.received)).status, 'accepted');
        return join.event;
      };

      test('a remote join is accepted: the member is in the room and the join is its new tip', async () => {
        const roomId = await createRoom();
        const join = await joinBob(roomId);
        assert.equal((await rooms.store.memberships.getMembership(roomId, BOB))?.membership, 'join');
        assert.deepEqual(await rooms.store.events.getForwardExtremities(roomId), [join.event_id]);
        assert.ok((await timelineIds(roomId)).includes(join.event_id));
        // A local event now builds on it.
        const sent = await rooms.pipeline.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'hi' } });
        assert.deepEqual(sent.event.prev_events, [join.event_id]);
      });

      test('a message from someone who never joined is rejected and stays out of the timeline', async () => {
        const roomId = await createRoom();
        const message = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: CAROL, content: { body: 'let me in' }, prev: await tip(roomId), auth: await auth(roomId) });
        const outcome = await rooms.pipeline.receive(roomId, message.received);
        assert.equal(outcome.status, 'rejected');
        assert.ok(!(await timelineIds(roomId)).includes(message.event.event_id));
        const stored = await rooms.store.events.getEvent(message.event.event_id);
        assert.ok(stored?.rejectedReason, 'kept, with the reason, so later events naming it are rejected too');
      });

      test('auth_events naming an event the rules do not select are rejected', async () => {
        const roomId = await createRoom();
        const bobJoin = await joinBob(roomId);
        const topic = remote.event(rooms.rules, roomId, {
          type: 'm.room.topic',
          sender: BOB,
          stateKey: '',
          content: { topic: 'sneaky' },
          prev: await tip(roomId),
          auth: await auth(roomId, bobJoin, await state(roomId, 'm.room.join_rules')),
        });
        const outcome = await rooms.pipeline.receive(roomId, topic.received);
        assert.equal(outcome.status, 'rejected');
        assert.match((outcome as { reason: string }).reason, /m\.room\.join_rules/);
      });

      test('a message built before its sender was banned is soft-failed: valid at its place, not now', async () => {
        const roomId = await createRoom();
        const bobJoin = await joinBob(roomId);
        await rooms.pipeline.send(roomId, { type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } });
        const evading = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'still here' }, prev: [bobJoin], auth: await auth(roomId, bobJoin) });
        const outcome = await rooms.pipeline.receive(roomId, evading.received);
        assert.equal(outcome.status, 'soft_failed');
        assert.ok(!(await timelineIds(roomId)).includes(evading.event.event_id));
        assert.ok(!(await rooms.store.events.getForwardExtremities(roomId)).includes(evading.event.event_id), 'not built on');
      });

      test('concurrent topic changes fork the room; the current state is their resolution', async () => {
        const roomId = await createRoom();
        const bobJoin = await joinBob(roomId);
        const now = Date.now();
        const aliceTopic = await rooms.pipeline.send(roomId, { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'from alice' } });
        // Bob's server has not seen Alice's topic; its change is later in time.
        const bobTopic = remote.event(rooms.rules, roomId, {
          type: 'm.room.topic',
          sender: BOB,
          stateKey: '',
          content: { topic: 'from bob' },
          prev: [bobJoin],
          auth: await auth(roomId, bobJoin),
          originServerTs: now + 60_000,
        });
        assert.equal((await rooms.pipeline.receive(roomId, bobTopic.received)).status, 'accepted');
        assert.deepEqual(new Set(await rooms.store.events.getForwardExtremities(roomId)), new Set([aliceTopic.event.event_id, bobTopic.event.event_id]));
        // Same power, same mainline: the later origin_server_ts wins (rooms/v2.md "Mainline ordering").
        assert.equal((await state(roomId, 'm.room.topic')).content.topic, 'from bob');
        const stored = await rooms.store.currentState.getCurrentStateEvent(roomId, 'm.room.topic', '');
        assert.equal(stored?.eventId, bobTopic.event.event_id);
        // The next local event merges the fork.
        const merge = await rooms.pipeline.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'merged' } });
        assert.deepEqual(new Set(merge.event.prev_events as string[]), new Set([aliceTopic.event.event_id, bobTopic.event.event_id]));
        assert.deepEqual(await rooms.store.events.getForwardExtremities(roomId), [merge.event.event_id]);
      });

      test('an event after a gap takes the state its sender reports; its unknown auth events come as outliers', async () => {
        const roomId = await createRoom();
        const bobJoin = await joinBob(roomId);
        // Events Axon never saw: Bob changes the topic twice; only the second reaches us.
        const first = remote.event(rooms.rules, roomId, { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'one' }, prev: [bobJoin], auth: await auth(roomId, bobJoin) });
        const second = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'after the gap' }, prev: [first.event], auth: await auth(roomId, bobJoin) });
        const rejected = await rooms.pipeline.storeOutliers(roomId, rooms.rules, [first.received]);
        assert.equal(rejected.size, 0);
        assert.ok(!(await timelineIds(roomId)).includes(first.event.event_id), 'an outlier is not in the timeline');
        const reported = new Map((await rooms.store.currentState.getCurrentState(roomId)).entries());
        reported.set(stateKeyString('m.room.topic', ''), first.event.event_id);
        assert.equal((await rooms.pipeline.receive(roomId, second.received, reported)).status, 'accepted');
        assert.equal((await state(roomId, 'm.room.topic')).content.topic, 'one');
        assert.ok((await timelineIds(roomId)).includes(second.event.event_id));
      });

      test('an outlier failing its own auth events is stored as rejected, and so is what names it', async () => {
        const roomId = await createRoom();
        const forged = remote.event(rooms.rules, roomId, { type: 'm.room.topic', sender: CAROL, stateKey: '', content: { topic: 'forged' }, prev: await tip(roomId), auth: await auth(roomId) });
        const rejected = await rooms.pipeline.storeOutliers(roomId, rooms.rules, [forged.received]);
        assert.deepEqual([...rejected], [forged.event.event_id]);
        const bobJoin = await joinBob(roomId);
        const naming = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'x' }, prev: [bobJoin], auth: [...(await auth(roomId, bobJoin)), forged.event] });
        assert.equal((await rooms.pipeline.receive(roomId, naming.received)).status, 'rejected');
      });

      test('the same event received twice is stored once', async () => {
        const roomId = await createRoom();
        const bobJoin = await joinBob(roomId);
        const message = remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'once' }, prev: [bobJoin], auth: await auth(roomId, bobJoin) });
        assert.equal((await rooms.pipeline.receive(roomId, message.received)).status, 'accepted');
        assert.equal((await rooms.pipeline.receive(roomId, message.received)).status, 'duplicate');
        assert.equal((await timelineIds(roomId)).filter((id) => id === message.event.event_id).length, 1);
      });
    });
  }
}

