// A bare event pipeline over a test database with rooms created by a local
// user, for tests of received events: no HTTP, no other services.
import assert from 'node:assert/strict';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import { generateSigningKey } from '../../src/core/signing.js';
import type { Event } from '../../src/core/types.js';
import type { Database } from '../../src/storage/database.js';
import { RoomStore } from '../../src/storage/rooms/index.js';
import { Notifier } from '../../src/services/notifier.js';
import { EventPipeline, type EventRequest } from '../../src/services/rooms/event-pipeline.js';

export const LOCAL_SERVER = 'local.test';
export const ALICE = `@alice:${LOCAL_SERVER}`;

export class PipelineRooms {
  readonly store: RoomStore;
  readonly pipeline: EventPipeline;
  readonly rules: RoomVersionRules;
  private counter = 0;

  constructor(db: Database, readonly version: string) {
    this.rules = roomVersion(version)!;
    this.store = new RoomStore(db);
    this.pipeline = new EventPipeline({
      db,
      serverName: LOCAL_SERVER,
      signingKey: generateSigningKey('a'),
      store: this.store,
      notifier: new Notifier(),
      clock: () => Date.now(),
      onError: (err) => assert.fail(String(err)),
    });
  }

  /** A public room of Alice's where anyone joined may set the topic; moderators (50) may ban. */
  async createRoom(extraState: EventRequest[] = []): Promise<string> {
    const { version } = this;
    const { roomId } = await this.pipeline.createRoom(
      this.rules,
      { type: 'm.room.create', sender: ALICE, stateKey: '', content: { room_version: version, ...(this.rules.implicitRoomCreator ? {} : { creator: ALICE }) } },
      () => `!room${++this.counter}:${LOCAL_SERVER}`,
      (): EventRequest[] => [
        { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } },
        {
          type: 'm.room.power_levels',
          sender: ALICE,
          stateKey: '',
          content: { users: this.rules.privilegedCreators ? {} : { [ALICE]: 100 }, events: { 'm.room.topic': 0 }, state_default: 50, ban: 50 },
        },
        { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } },
        ...extraState,
      ],
      async (id) => {
        await this.store.rooms.createRoom({ roomId: id, roomVersion: version, creator: ALICE, isPublic: true, createdTs: Date.now() });
      },
    );
    return roomId;
  }

  async state(roomId: string, type: string, stateKey = ''): Promise<Event> {
    return (await this.pipeline.room(roomId))!.stateEvent(type, stateKey)!;
  }

  /** The auth events a remote server would pick besides the sender's own: power levels, and the create event before v12. */
  async auth(roomId: string, ...more: Event[]): Promise<Event[]> {
    const base = [await this.state(roomId, 'm.room.power_levels')];
    if (!this.rules.roomIdIsCreateEventHash) base.unshift(await this.state(roomId, 'm.room.create'));
    return [...base, ...more];
  }

  async tip(roomId: string): Promise<Event[]> {
    const ids = await this.store.events.getForwardExtremities(roomId);
    return [...(await this.pipeline.dag.events(ids)).values()].map((l) => l.event);
  }

  async timelineIds(roomId: string): Promise<string[]> {
    return (await this.store.events.getLatestEventsInRoom(roomId, 100)).map((e) => e.eventId);
  }
}
