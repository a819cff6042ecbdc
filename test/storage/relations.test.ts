// The relations store and the timeline queries added for /messages, on both engines.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { RoomStore } from '../../src/storage/rooms/index.js';
import { RelationStore } from '../../src/storage/rooms/relations.js';
import type { Event, JsonObject } from '../../src/core/types.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

const ROOM = '!r:test';

function pdu(id: string, sender: string, content: JsonObject, ts: number, stateKey?: string, type = 'm.room.message'): Event {
  return {
    event_id: id,
    room_id: ROOM,
    type,
    ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    sender,
    content,
    origin_server_ts: ts,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'x' },
    signatures: {},
  };
}

for (const engine of ENGINES) {
  describe(`relations store (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let store: RoomStore;
    let relations: RelationStore;
    const positions = new Map<string, number>();

    const persist = async (event: Event) => {
      const [stored] = await store.events.persistEvents({ events: [{ event, json: canonicalJson(event) }] });
      positions.set(event.event_id, stored!.streamOrdering);
      const rel = event.content['m.relates_to'] as JsonObject | undefined;
      if (rel) {
        await relations.addRelation({
          eventId: event.event_id,
          relatesToId: rel.event_id as string,
          relType: rel.rel_type as string,
          aggregationKey: null,
          roomId: ROOM,
          sender: event.sender,
          type: event.type,
          streamOrdering: stored!.streamOrdering,
        });
      }
    };

    before(async () => {
      db = database.db;
      store = new RoomStore(db);
      relations = new RelationStore(db);
      await persist(pdu('$join', '@bob:test', { membership: 'join' }, 1000, '@bob:test', 'm.room.member'));
      await persist(pdu('$root', '@alice:test', { body: 'root' }, 1001));
      await persist(pdu('$r1', '@bob:test', { body: 'r1', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } }, 1002));
      await persist(pdu('$root2', '@carol:test', { body: 'root2' }, 1003));
      await persist(pdu('$r2', '@carol:test', { body: 'r2', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root2' } }, 1004));
      await persist(pdu('$r3', '@alice:test', { body: 'r3', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } }, 1005));
    });

    test('children page by stream position in both directions', async () => {
      const top = await store.events.maxStreamPosition();
      const back = await relations.children(['$root'], { from: top, to: 0, limit: 10, direction: 'backward' });
      assert.deepEqual(back.map((e) => e.eventId), ['$r3', '$r1']);
      const fwd = await relations.children(['$root'], { from: positions.get('$r1')!, to: top, limit: 10, direction: 'forward' });
      assert.deepEqual(fwd.map((e) => e.eventId), ['$r3']);
    });

    test('threads list by latest reply, filter by participation, and skip redacted replies', async () => {
      const top = await store.events.maxStreamPosition();
      const all = await relations.threads(ROOM, top, 10);
      assert.deepEqual(all.map((t) => [t.rootId, t.count, t.latestEventId]), [['$root', 2, '$r3'], ['$root2', 1, '$r2']]);
      assert.deepEqual((await relations.threads(ROOM, top, 10, '@bob:test')).map((t) => t.rootId), ['$root']);
      assert.deepEqual((await relations.threads(ROOM, top, 10, '@carol:test')).map((t) => t.rootId), ['$root2']);
      assert.deepEqual((await relations.threads(ROOM, positions.get('$r3')! - 1, 10)).map((t) => t.rootId), ['$root2']);
      await store.events.setRedactedBecause('$r3', '$redaction');
      const after = await relations.threads(ROOM, top, 10);
      assert.deepEqual(after.map((t) => [t.rootId, t.count, t.latestEventId]), [['$root2', 1, '$r2'], ['$root', 1, '$r1']]);
      assert.deepEqual((await relations.relationsTo(['$root'], 'm.thread')).map((r) => r.eventId), ['$r1']);
    });

    test('timeline helpers: last join, last event at a position, event near a timestamp', async () => {
      assert.deepEqual(await store.events.lastJoins('@bob:test', [ROOM]), new Map([[ROOM, positions.get('$join')]]));
      assert.deepEqual(await store.events.lastJoins('@alice:test', [ROOM]), new Map());
      assert.equal((await store.events.getLastEventAtOrBefore(ROOM, positions.get('$r1')!))?.eventId, '$r1');
      assert.equal((await store.events.getEventNearTimestamp(ROOM, 1003, 'forward'))?.eventId, '$root2');
      assert.equal((await store.events.getEventNearTimestamp(ROOM, 1002, 'backward'))?.eventId, '$r1');
      assert.equal(await store.events.getEventNearTimestamp(ROOM, 999, 'backward'), undefined);
    });
  });
}
