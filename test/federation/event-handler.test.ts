// PDUs from other servers before the pipeline: the checks that drop or
// redact them (format, signatures, content hash, server ACL) and the
// fetching that fills gaps (missing auth events, get_missing_events, the
// state at a gap). The remote side is a fake server answering from the
// PDUs it built. Room versions 1 (state resolution v1), 10 and 12.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, JsonObject, JsonValue } from '../../src/core/types.js';
import { DroppedPduError, FederatedEventHandler } from '../../src/federation/inbound/event-handler.js';
import { useTestDatabase } from '../helpers/databases.js';
import { ALICE, PipelineRooms } from '../helpers/pipeline-room.js';
import { FakeFetcher, FakeRemoteServer, fakeSigningKeys } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';

for (const version of ['1', '10', '12']) {
  describe(`federated event handler, room version ${version}`, () => {
    const database = useTestDatabase('sqlite');
    const remote = new FakeRemoteServer('remote.test');
    let rooms: PipelineRooms;
    let fetcher: FakeFetcher;
    let handler: FederatedEventHandler;

    before(() => {
      rooms = new PipelineRooms(database.db, version);
    });

    const newHandler = (): void => {
      fetcher = new FakeFetcher(remote);
      handler = new FederatedEventHandler({
        pipeline: rooms.pipeline,
        fetcher,
        signingKeys: fakeSigningKeys(remote),
        log: () => undefined,
      });
    };

    /** A room Bob (of the remote server) has joined, as both servers know it. */
    const roomWithBob = async (): Promise<{ roomId: string; bobJoin: Event }> => {
      newHandler();
      const roomId = await rooms.createRoom();
      const join = remote.event(rooms.rules, roomId, {
        type: 'm.room.member',
        sender: BOB,
        stateKey: BOB,
        content: { membership: 'join' },
        prev: await rooms.tip(roomId),
        auth: await rooms.auth(roomId, await rooms.state(roomId, 'm.room.join_rules')),
      });
      assert.equal((await handler.onPdu('remote.test', roomId, join.pdu as unknown as JsonValue)).status, 'accepted');
      return { roomId, bobJoin: join.event };
    };
    const message = (roomId: string, prev: Event[], auth: Event[], body: string) =>
      remote.event(rooms.rules, roomId, { type: 'm.room.message', sender: BOB, content: { body }, prev, auth });
    const send = (roomId: string, pdu: unknown) => handler.onPdu('remote.test', roomId, pdu as JsonValue);

    test('a PDU on events we have is accepted without asking the remote anything', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const m = message(roomId, [bobJoin], await rooms.auth(roomId, bobJoin), 'hello');
      assert.equal((await send(roomId, m.pdu)).status, 'accepted');
      assert.deepEqual(fetcher.calls, []);
    });

    test('missing prev_events are fetched with get_missing_events and enter the timeline in order', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const auth = await rooms.auth(roomId, bobJoin);
      const one = message(roomId, [bobJoin], auth, 'one');
      const two = message(roomId, [one.event], auth, 'two');
      const three = message(roomId, [two.event], auth, 'three');
      assert.equal((await send(roomId, three.pdu)).status, 'accepted');
      assert.deepEqual(fetcher.calls, ['get_missing_events']);
      const timeline = await rooms.timelineIds(roomId);
      assert.deepEqual(timeline.slice(-3), [one.event.event_id, two.event.event_id, three.event.event_id]);
    });

    test('a live event whose prev_events its server will not give is dropped, and no state is asked for it', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      fetcher.missingEventsAnswer = 'none';
      const auth = await rooms.auth(roomId, bobJoin);
      const hidden = message(roomId, [bobJoin], auth, 'hidden');
      const after = message(roomId, [hidden.event], auth, 'after');
      await assert.rejects(send(roomId, after.pdu), (err: Error) => err instanceof DroppedPduError && err.reason === 'missing-prev-events');
      assert.deepEqual(fetcher.calls, ['get_missing_events']);
      assert.equal(await rooms.store.events.getEvent(after.event.event_id), undefined);
    });

    test('a gap behind a pulled event is crossed with the state the remote reports at it', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      fetcher.missingEventsAnswer = 'nearest';
      const auth = await rooms.auth(roomId, bobJoin);
      // The topic is never given; the message after it comes from get_missing_events.
      const topic = remote.event(rooms.rules, roomId, { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'across the gap' }, prev: [bobJoin], auth });
      const pulled = message(roomId, [topic.event], auth, 'pulled');
      const live = message(roomId, [pulled.event], auth, 'live');
      fetcher.stateBefore.set(topic.event.event_id, await currentStateIds(roomId));
      assert.equal((await send(roomId, live.pdu)).status, 'accepted');
      assert.ok(fetcher.calls.includes(`state_ids ${topic.event.event_id}`));
      assert.equal((await rooms.state(roomId, 'm.room.topic')).content.topic, 'across the gap');
      const timeline = await rooms.timelineIds(roomId);
      assert.deepEqual(timeline.slice(-2), [pulled.event.event_id, live.event.event_id]);
      assert.ok(!timeline.includes(topic.event.event_id), 'the gap event itself is only an outlier');
    });

    test('a forged power levels event claimed as the state at a gap does not take the room over', async () => {
      // SyTest's "pretending there is no PL event": the remote claims the state
      // at a gap holds a power levels event of its own making, which fails
      // auth against its own auth events (Bob has no power to set levels).
      const { roomId, bobJoin } = await roomWithBob();
      fetcher.missingEventsAnswer = 'nearest';
      const realLevels = await rooms.state(roomId, 'm.room.power_levels');
      const auth = await rooms.auth(roomId, bobJoin);
      const forged = remote.event(rooms.rules, roomId, {
        type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [BOB]: 100, [ALICE]: 0 } }, prev: [bobJoin], auth,
        // Below the real one, so the first power levels event room version 1's resolution takes.
        depth: 0,
      });
      const hidden = message(roomId, [forged.event], auth, 'hidden');
      const pulled = message(roomId, [hidden.event], auth, 'pulled');
      const live = message(roomId, [pulled.event], auth, 'live');
      const claimed = (await currentStateIds(roomId)).filter((id) => id !== realLevels.event_id);
      fetcher.stateBefore.set(hidden.event.event_id, [...claimed, forged.event.event_id]);
      await send(roomId, live.pdu);
      assert.ok(fetcher.calls.includes(`state_ids ${hidden.event.event_id}`), 'the state at the gap was asked for');
      assert.equal((await rooms.state(roomId, 'm.room.power_levels')).event_id, realLevels.event_id);
    });

    test('auth events we lack are fetched with event_auth', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      // Bob's server changed his member event in an event we never got.
      const pl = await rooms.state(roomId, 'm.room.power_levels');
      const renamed = remote.event(rooms.rules, roomId, {
        type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join', displayname: 'Bob' }, prev: [bobJoin], auth: await rooms.auth(roomId, bobJoin),
      });
      const m = message(roomId, [renamed.event], [...(rooms.rules.roomIdIsCreateEventHash ? [] : [await rooms.state(roomId, 'm.room.create')]), pl, renamed.event], 'hi');
      assert.equal((await send(roomId, m.pdu)).status, 'accepted');
      assert.equal(fetcher.calls[0], `event_auth ${m.event.event_id}`);
    });

    test('a PDU with a bad signature is dropped and nothing is stored', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const m = message(roomId, [bobJoin], await rooms.auth(roomId, bobJoin), 'signed');
      const forged = { ...m.pdu, signatures: { 'remote.test': { [remote.key.keyId]: 'A'.repeat(86) } } };
      await assert.rejects(send(roomId, forged), (err: Error) => err instanceof DroppedPduError && /bad signature/.test(err.message));
      assert.equal(await rooms.store.events.getEvent(m.event.event_id), undefined);
    });

    test('a PDU whose content does not match its hash is kept redacted', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const m = message(roomId, [bobJoin], await rooms.auth(roomId, bobJoin), 'original');
      const tampered = { ...m.pdu, content: { body: 'tampered' } };
      assert.equal((await send(roomId, tampered)).status, 'accepted');
      const stored = await rooms.store.events.getEvent(m.event.event_id);
      assert.deepEqual((JSON.parse(stored!.json) as JsonObject)['content'], {});
    });

    test('a malformed PDU is dropped with the reason', async () => {
      const { roomId, bobJoin } = await roomWithBob();
      const m = message(roomId, [bobJoin], await rooms.auth(roomId, bobJoin), 'x');
      await assert.rejects(send(roomId, { ...m.pdu, depth: 'deep' }), /malformed.*depth/);
    });

    test("a server the room's ACL denies has its PDUs dropped", async () => {
      const { roomId, bobJoin } = await roomWithBob();
      await rooms.pipeline.send(roomId, { type: 'm.room.server_acl', sender: ALICE, stateKey: '', content: { allow: ['*'], deny: ['remote.test'] } });
      const m = message(roomId, [bobJoin], await rooms.auth(roomId, bobJoin), 'denied');
      await assert.rejects(send(roomId, m.pdu), /server ACL denies remote\.test/);
    });

    const currentStateIds = async (roomId: string): Promise<string[]> => [...(await rooms.store.currentState.getCurrentState(roomId)).values()];
  });
}
