import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { RoomStore, type EventToPersist } from '../../src/storage/rooms/index.js';
import type { Event, JsonObject } from '../../src/core/types.js';
import { stateKeyString } from '../../src/core/types.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

interface EventSpec {
  room: string;
  type?: string;
  stateKey?: string;
  sender?: string;
  prev?: string[];
  auth?: string[];
  depth?: number;
  content?: JsonObject;
}

function pdu(id: string, spec: EventSpec): Event {
  return {
    event_id: id,
    room_id: spec.room,
    type: spec.type ?? 'm.room.message',
    ...(spec.stateKey !== undefined ? { state_key: spec.stateKey } : {}),
    sender: spec.sender ?? '@alice:test',
    content: spec.content ?? { body: id },
    origin_server_ts: 1_700_000_000_000,
    depth: spec.depth ?? 1,
    prev_events: spec.prev ?? [],
    auth_events: spec.auth ?? [],
    hashes: { sha256: 'x' },
    signatures: {},
  };
}

function toPersist(id: string, spec: EventSpec, extra: Partial<EventToPersist> = {}): EventToPersist {
  const event = pdu(id, spec);
  return { event, json: canonicalJson(event), ...extra };
}

for (const engine of ENGINES) {
  describe(`room events (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let store: RoomStore;

    before(async () => {
      db = database.db;
      store = new RoomStore(db);
    });

    test('a batch is stored and read back byte for byte, with increasing positions', async () => {
      const room = '!read:test';
      const json = '{"auth_events":[],"content":{"body":"caf\u00e9 \u2603"},"depth":3,"event_id":"$m","hashes":{"sha256":"x"}}';
      const batch = [
        toPersist('$read-create', { room, type: 'm.room.create', stateKey: '', content: { creator: '@alice:test' } }),
        toPersist('$read-join', { room, type: 'm.room.member', stateKey: '@alice:test', prev: ['$read-create'], depth: 2, content: { membership: 'join' } }),
        { ...toPersist('$read-msg', { room, prev: ['$read-join'], depth: 3 }), json },
      ];
      const results = await store.events.persistEvents({ events: batch });
      assert.deepEqual(results.map((r) => [r.eventId, r.existing]), [
        ['$read-create', false],
        ['$read-join', false],
        ['$read-msg', false],
      ]);
      assert.ok(results[0]!.streamOrdering < results[1]!.streamOrdering && results[1]!.streamOrdering < results[2]!.streamOrdering);

      const msg = await store.events.getEvent('$read-msg');
      assert.equal(msg?.json, json);
      assert.deepEqual(
        { ...msg, json: undefined },
        {
          eventId: '$read-msg',
          roomId: room,
          type: 'm.room.message',
          stateKey: null,
          sender: '@alice:test',
          depth: 3,
          originServerTs: 1_700_000_000_000,
          streamOrdering: results[2]!.streamOrdering,
          outlier: false,
          rejectedReason: null,
          softFailed: false,
          redactedBecause: null,
          stateSnapshotBefore: null,
          replacesState: null,
          json: undefined,
        },
      );
      assert.equal((await store.events.getEvent('$read-join'))?.stateKey, '@alice:test');
      assert.equal(await store.events.getEvent('$nope'), undefined);

      const many = await store.events.getEvents(['$read-create', '$read-msg', '$nope']);
      assert.deepEqual([...many.keys()].sort(), ['$read-create', '$read-msg']);
      assert.deepEqual([...(await store.events.haveEvents(['$read-join', '$nope']))], ['$read-join']);
      assert.equal(await store.events.maxStreamPosition(), results[2]!.streamOrdering);
    });

    test('a repeated transaction ID returns the first event and stores nothing new', async () => {
      const room = '!txn:test';
      const txn = { userId: '@alice:test', deviceId: 'DEV', scope: 'send', txnId: 't1' };
      const [first] = await store.events.persistEvents({ events: [toPersist('$txn-a', { room }, { txn })] });
      const [again] = await store.events.persistEvents({ events: [toPersist('$txn-b', { room }, { txn })] });
      assert.deepEqual(again, { eventId: '$txn-a', streamOrdering: first!.streamOrdering, existing: true });
      assert.equal(await store.events.getEvent('$txn-b'), undefined);
      assert.equal(await store.events.getEventIdForTxn(txn), '$txn-a');

      // Transaction IDs are per device.
      const [other] = await store.events.persistEvents({
        events: [toPersist('$txn-c', { room }, { txn: { ...txn, deviceId: 'OTHER' } })],
      });
      assert.equal(other!.existing, false);

      // Within one batch, the second use of a transaction ID is dropped too.
      const twice = await store.events.persistEvents({
        events: [toPersist('$txn-d', { room }, { txn: { ...txn, txnId: 't2' } }), toPersist('$txn-e', { room }, { txn: { ...txn, txnId: 't2' } })],
      });
      assert.deepEqual(twice.map((r) => [r.eventId, r.existing]), [['$txn-d', false], ['$txn-d', true]]);

      // The sending device, and only it, finds its transaction IDs again.
      const mine = await store.events.getTxnIdsForEvents(['$txn-a', '$txn-c', '$txn-d'], txn.userId, txn.deviceId);
      assert.deepEqual([...mine].sort(), [['$txn-a', 't1'], ['$txn-d', 't2']]);
      assert.equal((await store.events.getTxnIdsForEvents(['$txn-a'], txn.userId, 'OTHER')).size, 0);
    });

    test('a state event records the event it replaced', async () => {
      const room = '!replace:test';
      const create = toPersist('$rep-create', { room, type: 'm.room.create', stateKey: '' });
      const first = toPersist('$rep-topic-1', { room, type: 'm.room.topic', stateKey: '', prev: ['$rep-create'], depth: 2 });
      const second = toPersist('$rep-topic-2', { room, type: 'm.room.topic', stateKey: '', prev: ['$rep-topic-1'], depth: 3 }, { replacesState: '$rep-topic-1' });
      await store.events.persistEvents({ events: [create, first, second] });
      assert.equal((await store.events.getEvent('$rep-topic-2'))?.replacesState, '$rep-topic-1');
      assert.equal((await store.events.getEvent('$rep-topic-1'))?.replacesState, null);
    });

    test('racing sends with one transaction ID store a single event', async () => {
      const room = '!txn-race:test';
      const txn = { userId: '@alice:test', deviceId: 'DEV', scope: 'send', txnId: 'race' };
      const results = await Promise.all(
        ['$tr-1', '$tr-2', '$tr-3', '$tr-4'].map((id) => store.events.persistEvents({ events: [toPersist(id, { room }, { txn })] })),
      );
      const winners = results.flat().filter((r) => !r.existing);
      assert.equal(winners.length, 1);
      assert.deepEqual(new Set(results.flat().map((r) => r.eventId)), new Set([winners[0]!.eventId]));
      assert.equal((await store.events.haveEvents(['$tr-1', '$tr-2', '$tr-3', '$tr-4'])).size, 1);
    });

    test('an event persisted twice keeps its first position', async () => {
      const room = '!dup:test';
      const [first] = await store.events.persistEvents({ events: [toPersist('$dup', { room })] });
      const again = await store.events.persistEvents({ events: [toPersist('$dup', { room }), toPersist('$dup', { room })] });
      assert.deepEqual(again, [
        { eventId: '$dup', streamOrdering: first!.streamOrdering, existing: true },
        { eventId: '$dup', streamOrdering: first!.streamOrdering, existing: true },
      ]);
    });

    test('forward extremities follow a fork and a merge', async () => {
      const room = '!fork:test';
      const e = store.events;
      await e.persistEvents({ events: [toPersist('$f-a', { room })] });
      assert.deepEqual(await e.getForwardExtremities(room), ['$f-a']);
      await e.persistEvents({ events: [toPersist('$f-b', { room, prev: ['$f-a'] })] });
      await e.persistEvents({ events: [toPersist('$f-c', { room, prev: ['$f-a'] })] });
      assert.deepEqual(await e.getForwardExtremities(room), ['$f-b', '$f-c']);
      await e.persistEvents({ events: [toPersist('$f-d', { room, prev: ['$f-b', '$f-c'] })] });
      assert.deepEqual(await e.getForwardExtremities(room), ['$f-d']);
      assert.deepEqual(await e.getChildEventIds('$f-a'), ['$f-b', '$f-c']);

      // Outliers, rejected and soft-failed events neither replace nor become extremities.
      await e.persistEvents({
        events: [
          toPersist('$f-out', { room, prev: ['$f-d'] }, { outlier: true }),
          toPersist('$f-rej', { room, prev: ['$f-d'] }, { rejectedReason: 'not allowed' }),
          toPersist('$f-soft', { room, prev: ['$f-d'] }, { softFailed: true }),
        ],
      });
      assert.deepEqual(await e.getForwardExtremities(room), ['$f-d']);

      // A parent that arrives after its child is not an extremity.
      await e.persistEvents({ events: [toPersist('$f-child', { room, prev: ['$f-d', '$f-late'] })] });
      await e.persistEvents({ events: [toPersist('$f-late', { room, prev: ['$f-d'] })] });
      assert.deepEqual(await e.getForwardExtremities(room), ['$f-child']);
    });

    test('a chain persisted in one batch leaves only its last event as the extremity, built here or received', async () => {
      for (const builtHere of [true, false]) {
        const room = `!chain-${builtHere}:test`;
        const chain = ['$c1', '$c2', '$c3'].map((id) => `${id}-${builtHere}`);
        await store.events.persistEvents({
          builtHere,
          events: chain.map((id, i) => toPersist(id, { room, prev: i === 0 ? [] : [chain[i - 1]!], depth: i + 1 })),
        });
        assert.deepEqual(await store.events.getForwardExtremities(room), [chain[2]]);
      }
    });

    test('stream reads page forwards and backwards over timeline events only', async () => {
      const [r1, r2] = ['!stream1:test', '!stream2:test'];
      const start = await store.events.maxStreamPosition();
      const results = await store.events.persistEvents({
        events: [
          toPersist('$s-1', { room: r1 }),
          toPersist('$s-2', { room: r2 }),
          toPersist('$s-out', { room: r1 }, { outlier: true }),
          toPersist('$s-soft', { room: r1 }, { softFailed: true }),
          toPersist('$s-3', { room: r1 }),
          toPersist('$s-4', { room: r2 }),
        ],
      });
      const end = await store.events.maxStreamPosition();
      assert.equal(end, results.at(-1)!.streamOrdering);
      const ids = (events: { eventId: string }[]) => events.map((x) => x.eventId);

      assert.deepEqual(ids(await store.events.getEventsByStream([r1, r2], start, end, 10, 'forward')), ['$s-1', '$s-2', '$s-3', '$s-4']);
      assert.deepEqual(ids(await store.events.getEventsByStream([r1, r2], start, end, 2, 'forward')), ['$s-1', '$s-2']);
      assert.deepEqual(ids(await store.events.getEventsByStream([r1], start, end, 10, 'forward')), ['$s-1', '$s-3']);
      assert.deepEqual(ids(await store.events.getEventsByStream([r1, r2], end, start, 3, 'backward')), ['$s-4', '$s-3', '$s-2']);
      const afterFirst = results[0]!.streamOrdering;
      assert.deepEqual(ids(await store.events.getEventsByStream([r1, r2], afterFirst, end, 10, 'forward')), ['$s-2', '$s-3', '$s-4']);
      assert.deepEqual(ids(await store.events.getLatestEventsInRoom(r1, 5)), ['$s-1', '$s-3']);
      assert.deepEqual(ids(await store.events.getLatestEventsInRoom(r2, 1)), ['$s-4']);
    });

    test('concurrent persists get distinct positions, gap-free and in commit order', async () => {
      const start = await store.events.maxStreamPosition();
      const room = '!race:test';
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.events.persistEvents({ events: [toPersist(`$race-${i}a`, { room }), toPersist(`$race-${i}b`, { room })] }),
        ),
      );
      const positions = results.flat().map((r) => r.streamOrdering).sort((a, b) => a - b);
      assert.deepEqual(positions, Array.from({ length: 24 }, (_, i) => start + 1 + i));
      assert.equal(await store.events.maxStreamPosition(), start + 24);
      // Each batch's events are adjacent: batches never interleave.
      for (const [a, b] of results) assert.equal(b!.streamOrdering, a!.streamOrdering + 1);
    });

    test('a failed batch stores nothing and does not advance the stream', async () => {
      const start = await store.events.maxStreamPosition();
      const room = '!fail:test';
      await assert.rejects(
        store.events.persistEvents({
          events: [toPersist('$fail-1', { room })],
          currentState: [{ roomId: room, update: { state: new Map([[stateKeyString('m.room.member', '@x:test'), '$missing']]) } }],
        }),
        /not stored/,
      );
      assert.equal(await store.events.getEvent('$fail-1'), undefined);
      assert.equal(await store.events.maxStreamPosition(), start);
    });

    test('an outlier later persisted in the timeline moves to a new position', async () => {
      const room = '!outlier:test';
      const [asOutlier] = await store.events.persistEvents({ events: [toPersist('$o-1', { room }, { outlier: true })] });
      const start = await store.events.maxStreamPosition();
      assert.deepEqual(await store.events.getEventsByStream([room], 0, start, 10, 'forward'), []);
      const [again] = await store.events.persistEvents({ events: [toPersist('$o-1', { room }, { outlier: true })] });
      assert.deepEqual(again, { ...asOutlier, existing: true });

      const [promoted] = await store.events.persistEvents({ events: [toPersist('$o-1', { room }, { stateSnapshotBefore: null })] });
      assert.equal(promoted!.existing, false);
      assert.ok(promoted!.streamOrdering > start);
      const stored = await store.events.getEvent('$o-1');
      assert.equal(stored?.outlier, false);
      assert.deepEqual(
        (await store.events.getEventsByStream([room], start, promoted!.streamOrdering, 10, 'forward')).map((e) => e.eventId),
        ['$o-1'],
      );
      assert.deepEqual(await store.events.getForwardExtremities(room), ['$o-1']);
    });

    test('the auth chain is walked transitively, without the events given', async () => {
      const room = '!auth:test';
      await store.events.persistEvents({
        events: [
          toPersist('$a-create', { room, type: 'm.room.create', stateKey: '' }),
          toPersist('$a-join', { room, type: 'm.room.member', stateKey: '@alice:test', auth: ['$a-create'], content: { membership: 'join' } }),
          toPersist('$a-pl', { room, type: 'm.room.power_levels', stateKey: '', auth: ['$a-create', '$a-join'] }),
          toPersist('$a-jr', { room, type: 'm.room.join_rules', stateKey: '', auth: ['$a-create', '$a-join', '$a-pl'] }),
          toPersist('$a-msg', { room, auth: ['$a-create', '$a-join', '$a-pl'] }),
          toPersist('$a-msg2', { room, auth: ['$a-join'] }),
        ],
      });
      assert.deepEqual(await store.events.authChainIds(['$a-msg']), ['$a-create', '$a-join', '$a-pl']);
      assert.deepEqual(await store.events.authChainIds(['$a-msg2']), ['$a-create', '$a-join']);
      assert.deepEqual(await store.events.authChainIds(['$a-jr', '$a-msg2']), ['$a-create', '$a-join', '$a-pl']);
      assert.deepEqual(await store.events.authChainIds(['$a-create']), []);
    });

    test('a redaction is recorded once', async () => {
      const room = '!redact:test';
      await store.events.persistEvents({ events: [toPersist('$r-target', { room })] });
      assert.equal(await store.events.setRedactedBecause('$r-target', '$r-redaction'), true);
      assert.equal(await store.events.setRedactedBecause('$r-target', '$r-other'), false);
      assert.equal(await store.events.setRedactedBecause('$r-unknown', '$r-redaction'), false);
      assert.equal((await store.events.getEvent('$r-target'))?.redactedBecause, '$r-redaction');
    });

    test('persisting with a state update sets current state and memberships in the same transaction', async () => {
      const room = '!persist-state:test';
      const create = toPersist('$ps-create', { room, type: 'm.room.create', stateKey: '' });
      const join = toPersist('$ps-join', { room, type: 'm.room.member', stateKey: '@alice:test', prev: ['$ps-create'], content: { membership: 'join' } });
      const snapshot = await store.snapshots.saveStateSnapshot(new Map([[stateKeyString('m.room.create', ''), '$ps-create']]));
      const state = new Map([
        [stateKeyString('m.room.create', ''), '$ps-create'],
        [stateKeyString('m.room.member', '@alice:test'), '$ps-join'],
      ]);
      const [, joined] = await store.events.persistEvents({
        events: [create, { ...join, stateSnapshotBefore: snapshot }],
        currentState: [{ roomId: room, update: { state } }],
      });
      assert.equal((await store.events.getEvent('$ps-join'))?.stateSnapshotBefore, snapshot);
      assert.deepEqual(await store.currentState.getCurrentState(room), state);
      assert.deepEqual(await store.memberships.roomsForUser('@alice:test', ['join']), [
        { roomId: room, userId: '@alice:test', membership: 'join', eventId: '$ps-join', streamOrdering: joined!.streamOrdering, forgotten: false },
      ]);
    });
  });
}
