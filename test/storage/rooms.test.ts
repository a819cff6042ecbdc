import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/storage/database.js';
import { RoomStore, type EventToPersist } from '../../src/storage/rooms/index.js';
import { stateKeyString, type Event, type JsonObject, type StateMap } from '../../src/core/types.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';

const key = stateKeyString;

function stateEvent(id: string, room: string, type: string, stateKey: string, content: JsonObject = {}): EventToPersist {
  const event: Event = {
    event_id: id,
    room_id: room,
    type,
    state_key: stateKey,
    sender: '@alice:test',
    content,
    origin_server_ts: 1,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'x' },
    signatures: {},
  };
  return { event, json: JSON.stringify(event) };
}

function member(id: string, room: string, userId: string, membership: string): EventToPersist {
  return stateEvent(id, room, 'm.room.member', userId, { membership });
}

for (const engine of ENGINES) {
  describe(`rooms, current state, memberships and aliases (${engine})`, () => {
    const database = useTestDatabase(engine);
    let db: Database;
    let store: RoomStore;

    before(async () => {
      db = database.db;
      store = new RoomStore(db);
    });

    test('rooms are recorded once and listed in the directory when public', async () => {
      const room = { roomId: '!r1:test', roomVersion: '11', creator: '@alice:test', isPublic: false, createdTs: 10 };
      assert.equal(await store.rooms.createRoom(room), true);
      assert.equal(await store.rooms.createRoom({ ...room, roomVersion: '10' }), false);
      assert.deepEqual(await store.rooms.getRoom('!r1:test'), room);
      assert.equal(await store.rooms.getRoom('!none:test'), undefined);
      await store.rooms.createRoom({ ...room, roomId: '!r2:test', isPublic: true, createdTs: 20 });
      assert.deepEqual((await store.rooms.listPublicRooms()).map((r) => r.roomId), ['!r2:test']);
      assert.equal(await store.rooms.setRoomPublic('!r1:test', true), true);
      assert.equal(await store.rooms.setRoomPublic('!none:test', true), false);
      assert.deepEqual((await store.rooms.listPublicRooms()).map((r) => r.roomId), ['!r1:test', '!r2:test']);
    });

    test('current state is replaced from a full state, a snapshot or a delta', async () => {
      const room = '!cs:test';
      const events = [
        stateEvent('$cs-create', room, 'm.room.create', ''),
        stateEvent('$cs-name', room, 'm.room.name', '', { name: 'one' }),
        stateEvent('$cs-name2', room, 'm.room.name', '', { name: 'two' }),
        stateEvent('$cs-topic', room, 'm.room.topic', ''),
        member('$cs-alice', room, '@alice:test', 'join'),
      ];
      await store.events.persistEvents({ events });
      const first: StateMap = new Map([
        [key('m.room.create', ''), '$cs-create'],
        [key('m.room.name', ''), '$cs-name'],
        [key('m.room.member', '@alice:test'), '$cs-alice'],
      ]);
      const delta1 = await store.currentState.setCurrentState(room, { state: first });
      assert.deepEqual(delta1, { changed: first, removed: [] });
      assert.deepEqual(await store.currentState.getCurrentState(room), first);

      const second: StateMap = new Map(first).set(key('m.room.name', ''), '$cs-name2').set(key('m.room.topic', ''), '$cs-topic');
      const snapshot = await store.snapshots.saveStateSnapshot(second);
      const delta2 = await store.currentState.setCurrentState(room, { snapshotId: snapshot });
      assert.deepEqual(
        delta2.changed,
        new Map([
          [key('m.room.name', ''), '$cs-name2'],
          [key('m.room.topic', ''), '$cs-topic'],
        ]),
      );
      assert.deepEqual(await store.currentState.getCurrentState(room), second);

      await store.currentState.setCurrentState(room, { delta: { changed: new Map(), removed: [key('m.room.topic', '')] } });
      const third = new Map(second);
      third.delete(key('m.room.topic', ''));
      assert.deepEqual(await store.currentState.getCurrentState(room), third);

      assert.deepEqual(
        await store.currentState.getCurrentState(room, { types: ['m.room.name', 'm.room.create'] }),
        new Map([
          [key('m.room.create', ''), '$cs-create'],
          [key('m.room.name', ''), '$cs-name2'],
        ]),
      );
      assert.deepEqual(await store.currentState.getCurrentState(room, { types: [] }), new Map());
      const name = await store.currentState.getCurrentStateEvent(room, 'm.room.name', '');
      assert.equal(name?.eventId, '$cs-name2');
      assert.deepEqual(JSON.parse(name!.json).content, { name: 'two' });
      assert.equal(await store.currentState.getCurrentStateEvent(room, 'm.room.topic', ''), undefined);
      const all = await store.currentState.getCurrentStateEvents(room);
      assert.deepEqual(all.map((e) => e.eventId).sort(), ['$cs-alice', '$cs-create', '$cs-name2']);
      const members = await store.currentState.getCurrentStateEvents(room, { types: ['m.room.member'] });
      assert.deepEqual(members.map((e) => e.eventId), ['$cs-alice']);
    });

    test('memberships follow current state, by room and by user', async () => {
      const [a, b] = ['!ma:test', '!mb:test'];
      const batch = [
        member('$m-a-alice', a, '@carol:test', 'join'),
        member('$m-a-bob', a, '@dave:test', 'invite'),
        member('$m-b-alice', b, '@carol:test', 'invite'),
      ];
      const positions = await store.events.persistEvents({
        events: batch,
        currentState: [
          {
            roomId: a,
            update: {
              state: new Map([
                [key('m.room.member', '@carol:test'), '$m-a-alice'],
                [key('m.room.member', '@dave:test'), '$m-a-bob'],
              ]),
            },
          },
          { roomId: b, update: { state: new Map([[key('m.room.member', '@carol:test'), '$m-b-alice']]) } },
        ],
      });
      const rooms = (memberships: Awaited<ReturnType<typeof store.memberships.roomsForUser>>) =>
        memberships.map((m) => [m.roomId, m.membership]);
      assert.deepEqual(rooms(await store.memberships.roomsForUser('@carol:test')), [[a, 'join'], [b, 'invite']]);
      assert.deepEqual(rooms(await store.memberships.roomsForUser('@carol:test', ['join'])), [[a, 'join']]);
      assert.deepEqual(rooms(await store.memberships.roomsForUser('@carol:test', [])), []);
      assert.deepEqual(
        (await store.memberships.membersOfRoom(a)).map((m) => [m.userId, m.membership]),
        [['@carol:test', 'join'], ['@dave:test', 'invite']],
      );
      assert.deepEqual((await store.memberships.membersOfRoom(a, 'join')).map((m) => m.userId), ['@carol:test']);
      assert.equal((await store.memberships.getMembership(a, '@dave:test'))?.streamOrdering, positions[1]!.streamOrdering);

      // Dave joins and Carol leaves room a; Carol's invite to b is withdrawn.
      const [bobJoin] = await store.events.persistEvents({
        events: [member('$m-a-bob2', a, '@dave:test', 'join'), member('$m-a-alice2', a, '@carol:test', 'leave')],
        currentState: [
          {
            roomId: a,
            update: {
              delta: {
                changed: new Map([
                  [key('m.room.member', '@dave:test'), '$m-a-bob2'],
                  [key('m.room.member', '@carol:test'), '$m-a-alice2'],
                ]),
                removed: [],
              },
            },
          },
          { roomId: b, update: { state: new Map() } },
        ],
      });
      assert.deepEqual(rooms(await store.memberships.roomsForUser('@carol:test')), [[a, 'leave']]);
      assert.deepEqual(await store.memberships.getMembership(a, '@dave:test'), {
        roomId: a,
        userId: '@dave:test',
        membership: 'join',
        eventId: '$m-a-bob2',
        streamOrdering: bobJoin!.streamOrdering,
        forgotten: false,
      });
      assert.deepEqual(await store.memberships.membersOfRoom(b), []);

      // Only a room one has left can be forgotten, and rejoining clears it.
      assert.equal(await store.memberships.forget(a, '@dave:test'), false);
      assert.equal(await store.memberships.forget(a, '@carol:test'), true);
      assert.equal((await store.memberships.getMembership(a, '@carol:test'))?.forgotten, true);
      // The per-user lists (cached: read above) see the forget and the rejoin.
      assert.deepEqual((await store.memberships.roomsForUser('@carol:test')).map((m) => m.forgotten), [true]);
      await store.events.persistEvents({
        events: [member('$m-a-carol3', a, '@carol:test', 'join')],
        currentState: [{ roomId: a, update: { delta: { changed: new Map([[key('m.room.member', '@carol:test'), '$m-a-carol3']]), removed: [] } } }],
      });
      assert.equal((await store.memberships.getMembership(a, '@carol:test'))?.forgotten, false);
      assert.deepEqual(rooms(await store.memberships.roomsForUser('@carol:test')), [[a, 'join']]);
    });

    test('a member state entry whose event lacks a membership is refused', async () => {
      const room = '!badmember:test';
      await store.events.persistEvents({ events: [stateEvent('$bad-m', room, 'm.room.member', '@x:test', {})] });
      await assert.rejects(
        store.currentState.setCurrentState(room, { state: new Map([[key('m.room.member', '@x:test'), '$bad-m']]) }),
        /no content.membership/,
      );
      assert.deepEqual(await store.currentState.getCurrentState(room), new Map());
    });

    test('aliases are created once, resolved, listed per room and deleted', async () => {
      const alias = { alias: '#lobby:test', roomId: '!r1:test', creator: '@alice:test', servers: ['test', 'other'], createdTs: 5 };
      assert.equal(await store.aliases.createAlias(alias), true);
      assert.equal(await store.aliases.createAlias({ ...alias, roomId: '!r2:test' }), false);
      assert.deepEqual(await store.aliases.getAlias('#lobby:test'), alias);
      await store.aliases.createAlias({ ...alias, alias: '#hall:test' });
      assert.deepEqual(await store.aliases.aliasesForRoom('!r1:test'), ['#hall:test', '#lobby:test']);
      assert.equal(await store.aliases.deleteAlias('#lobby:test'), true);
      assert.equal(await store.aliases.deleteAlias('#lobby:test'), false);
      assert.equal(await store.aliases.getAlias('#lobby:test'), undefined);
      assert.deepEqual(await store.aliases.aliasesForRoom('!r1:test'), ['#hall:test']);
    });
  });
}
