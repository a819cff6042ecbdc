// The store queries /sync relies on, on both engines: newest events per room
// in one query, a room's state gap, bump stamps, batched current state, and
// who shares a room with a user.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { RoomStore, type EventToPersist } from '../../src/storage/rooms/index.js';
import { stateKeyString, type Event, type JsonObject } from '../../src/core/types.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

function event(id: string, room: string, type: string, content: JsonObject, stateKey?: string, sender = '@alice:test'): EventToPersist {
  const e: Event = {
    event_id: id,
    room_id: room,
    type,
    ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    sender,
    content,
    origin_server_ts: 1_700_000_000_000,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'x' },
    signatures: {},
  };
  return { event: e, json: canonicalJson(e) };
}

for (const engine of ENGINES) {
  describe(`sync store queries (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let store: RoomStore;
    const positions = new Map<string, number>();

    const persist = async (items: EventToPersist[], state?: { roomId: string; keys: EventToPersist[] }) => {
      const currentState = state && [
        { roomId: state.roomId, update: { delta: { changed: new Map(state.keys.map((k) => [stateKeyString(k.event.type, k.event.state_key!), k.event.event_id])), removed: [] } } },
      ];
      const results = await store.events.persistEvents({ events: items, currentState });
      results.forEach((r) => positions.set(r.eventId, r.streamOrdering));
    };

    before(async () => {
      db = database.db;
      store = new RoomStore(db);
      const aJoin = event('$a-join', '!a:test', 'm.room.member', { membership: 'join' }, '@alice:test');
      const aBob = event('$a-bob', '!a:test', 'm.room.member', { membership: 'join' }, '@bob:test', '@bob:test');
      await persist([event('$a-create', '!a:test', 'm.room.create', {}, ''), aJoin, aBob], { roomId: '!a:test', keys: [aJoin, aBob] });
      const bJoin = event('$b-join', '!b:test', 'm.room.member', { membership: 'join' }, '@carol:test', '@carol:test');
      await persist([bJoin], { roomId: '!b:test', keys: [bJoin] });
      await persist([event('$a-1', '!a:test', 'm.room.message', { body: '1' })]);
      const topic = event('$a-topic', '!a:test', 'm.room.topic', { topic: 't' }, '');
      await persist([topic], { roomId: '!a:test', keys: [topic] });
      await persist([event('$a-2', '!a:test', 'm.room.message', { body: '2' }), event('$b-1', '!b:test', 'm.room.message', { body: 'b' })]);
      await persist([event('$a-3', '!a:test', 'm.room.message', { body: '3' })]);
    });

    test('recentEventsPerRoom: the newest N per room within the range, oldest first; quiet rooms absent', async () => {
      const max = await store.events.maxStreamPosition();
      const all = await store.events.recentEventsPerRoom(['!a:test', '!b:test', '!c:test'], 0, max, 2);
      assert.deepEqual(all.get('!a:test')!.map((e) => e.eventId), ['$a-2', '$a-3']);
      assert.deepEqual(all.get('!b:test')!.map((e) => e.eventId), ['$b-join', '$b-1']);
      assert.equal(all.has('!c:test'), false);
      const after = await store.events.recentEventsPerRoom(['!a:test', '!b:test'], positions.get('$b-1')!, max, 10);
      assert.deepEqual([...after.keys()], ['!a:test']);
      assert.deepEqual(after.get('!a:test')!.map((e) => e.eventId), ['$a-3']);
      const upTo = await store.events.recentEventsPerRoom(['!a:test'], 0, positions.get('$a-1')!, 10);
      assert.deepEqual(upTo.get('!a:test')!.at(-1)!.eventId, '$a-1');
    });

    test('stateEventsBetween: state events strictly inside the gap', async () => {
      const gap = await store.events.stateEventsBetween('!a:test', positions.get('$a-bob')!, positions.get('$a-3')!);
      assert.deepEqual(gap.map((e) => e.eventId), ['$a-topic']);
      assert.deepEqual(await store.events.stateEventsBetween('!a:test', positions.get('$a-topic')!, positions.get('$a-3')!), []);
    });

    test('latestPositionPerRoom: the newest event of the given types per room', async () => {
      const max = await store.events.maxStreamPosition();
      const bumps = await store.events.latestPositionPerRoom(['!a:test', '!b:test'], ['m.room.message', 'm.room.create'], max);
      assert.equal(bumps.get('!a:test'), positions.get('$a-3'));
      assert.equal(bumps.get('!b:test'), positions.get('$b-1'));
      const early = await store.events.latestPositionPerRoom(['!a:test', '!b:test'], ['m.room.create'], max);
      assert.deepEqual([...early], [['!a:test', positions.get('$a-create')]]);
    });

    test('getCurrentStateEventsForRooms and usersSharingRoomsWith', async () => {
      const states = await store.currentState.getCurrentStateEventsForRooms(['!a:test', '!b:test', '!none:test']);
      assert.deepEqual(states.get('!a:test')!.map((e) => e.eventId), ['$a-join', '$a-bob', '$a-topic']);
      assert.deepEqual(states.get('!b:test')!.map((e) => e.eventId), ['$b-join']);
      assert.deepEqual(states.get('!none:test'), []);
      const topics = await store.currentState.getCurrentStateEventsForRooms(['!a:test'], { types: ['m.room.topic'] });
      assert.deepEqual(topics.get('!a:test')!.map((e) => e.eventId), ['$a-topic']);
      assert.deepEqual(await store.memberships.usersSharingRoomsWith('@alice:test'), ['@alice:test', '@bob:test']);
      assert.deepEqual(await store.memberships.usersSharingRoomsWith('@carol:test'), ['@carol:test']);
    });
  });
}
