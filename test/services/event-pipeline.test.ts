// The pipeline's cache of loaded rooms: bounded, least recently used first,
// and never dropping a room whose queue has work (which holds its own copy).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../../src/core/room-versions.js';
import { generateSigningKey } from '../../src/core/signing.js';
import type { Database } from '../../src/storage/database.js';
import { RoomStore } from '../../src/storage/rooms/index.js';
import { Notifier } from '../../src/services/notifier.js';
import { EventPipeline } from '../../src/services/rooms/event-pipeline.js';
import { useTestDatabase } from '../helpers/databases.js';

const ALICE = '@alice:test';

describe('event pipeline room cache', () => {
  const database = useTestDatabase('sqlite');
  let db: Database;
  let store: RoomStore;
  let pipeline: EventPipeline;
  let counter = 0;

  before(async () => {
    db = database.db;
    store = new RoomStore(db);
    pipeline = new EventPipeline({
      db,
      serverName: 'test',
      signingKey: generateSigningKey('a'),
      store,
      notifier: new Notifier(),
      clock: () => Date.now(),
      onError: (err) => assert.fail(String(err)),
      roomCacheLimit: 2,
    });
  });

  const createRoom = async (): Promise<string> => {
    const { roomId } = await pipeline.createRoom(
      roomVersion('10')!,
      { type: 'm.room.create', sender: ALICE, stateKey: '', content: { room_version: '10', creator: ALICE } },
      () => `!room${++counter}:test`,
      () => [{ type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } }],
      async (id) => {
        await store.rooms.createRoom({ roomId: id, roomVersion: '10', creator: ALICE, isPublic: false, createdTs: Date.now() });
      },
    );
    return roomId;
  };
  const send = (roomId: string, body: string) => pipeline.send(roomId, { type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body } });

  test('rooms past the limit are dropped and reloaded from storage on their next send', async () => {
    const [a, b, c] = [await createRoom(), await createRoom(), await createRoom()];
    assert.equal(pipeline.loadedRoomCount, 2);
    // Room a was dropped: its next event still builds on its stored tip.
    const first = await send(a, 'one');
    const second = await send(a, 'two');
    assert.deepEqual(second.event.prev_events, [first.event.event_id]);
    assert.equal(second.event.depth, first.event.depth + 1);
    assert.equal(first.event.depth, 3, 'after create and join');
    await send(b, 'b');
    await send(c, 'c');
    assert.equal(pipeline.loadedRoomCount, 2);
  });

  test('a room with queued work is kept however old it is', async () => {
    const busy = await createRoom();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held: unknown;
    const working = pipeline.withRoom(busy, async (room) => {
      held = room;
      await gate;
    });
    // Make the busy room the least recently used many times over.
    for (let i = 0; i < 4; i++) await send(await createRoom(), 'filler');
    assert.equal(await pipeline.room(busy), held, 'the copy the queued work holds is still the cached one');
    release();
    await working;
  });
});
