// What other servers may read of a room's graph: only servers in the room,
// the state before an event, auth chains, backfill deepest-first, missing
// events oldest-first, and events the asking server could not see redacted.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { referencedEventIds } from '../../src/core/auth-events.js';
import type { Event, JsonObject } from '../../src/core/types.js';
import { FederationRoomQueries } from '../../src/federation/inbound/room-queries.js';
import { useTestDatabase } from '../helpers/databases.js';
import { ALICE, LOCAL_SERVER, PipelineRooms } from '../helpers/pipeline-room.js';
import { FakeRemoteServer } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';

for (const version of ['10', '12']) {
  describe(`federation room queries, room version ${version}`, () => {
    const database = useTestDatabase('sqlite');
    const remote = new FakeRemoteServer('remote.test');
    let rooms: PipelineRooms;
    let queries: FederationRoomQueries;

    before(() => {
      rooms = new PipelineRooms(database.db, version);
      queries = new FederationRoomQueries({ store: rooms.store, serverName: LOCAL_SERVER, clock: () => 1234, erasedAmong: async () => new Set() });
    });

    const joinBob = async (roomId: string): Promise<Event> => {
      const join = remote.event(rooms.rules, roomId, {
        type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' },
        prev: await rooms.tip(roomId), auth: await rooms.auth(roomId, await rooms.state(roomId, 'm.room.join_rules')),
      });
      assert.equal((await rooms.pipeline.receive(roomId, join.received)).status, 'accepted');
      return join.event;
    };
    const say = async (roomId: string, body: string) => (await rooms.pipeline.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body } })).event;
    const ids = (pdus: unknown): string[] => (pdus as JsonObject[]).map((p) => (p['content'] as JsonObject)['body'] as string);

    test('a server with nobody in the room is refused; one that has a member is served', async () => {
      const roomId = await createAndSay();
      const event = await say(roomId, 'private');
      await assert.rejects(queries.event('remote.test', event.event_id), { errcode: 'M_FORBIDDEN' });
      await joinBob(roomId);
      const body = await queries.event('remote.test', event.event_id);
      assert.equal(body['origin'], LOCAL_SERVER);
      assert.equal(((body['pdus'] as JsonObject[])[0]!['content'] as JsonObject)['body'], 'private');
      await assert.rejects(queries.event('remote.test', '$unknown'), { errcode: 'M_NOT_FOUND' });
    });

    test('state_ids is the state before the event, with its auth chain', async () => {
      const roomId = await createAndSay();
      const bobJoin = await joinBob(roomId);
      const topic = await rooms.pipeline.send(roomId, { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 't' } });
      const body = await queries.stateIds('remote.test', roomId, topic.event.event_id);
      const stateIds = body['pdu_ids'] as string[];
      assert.ok(stateIds.includes(bobJoin.event_id));
      assert.ok(!stateIds.includes(topic.event.event_id), 'before, not after');
      const full = await queries.state('remote.test', roomId, topic.event.event_id);
      assert.equal((full['pdus'] as JsonObject[]).length, stateIds.length);
      assert.ok((full['auth_chain'] as JsonObject[]).length > 0);
    });

    test('auth chains are served oldest first: a later power levels event follows the one it replaced', async () => {
      const roomId = await createAndSay();
      // Several power levels changes, so the chain holds a line of them whose order matters (v12: creators stay out of users).
      for (let i = 1; i <= 4; i++) {
        await rooms.pipeline.send(roomId, { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { ...(rooms.rules.privilegedCreators ? {} : { [ALICE]: 100 }), [`@u${i}:${LOCAL_SERVER}`]: i }, state_default: 50, ban: 50 } });
      }
      const bobJoin = await joinBob(roomId);
      const depthsOf = (pdus: unknown) => (pdus as JsonObject[]).map((p) => p['depth'] as number);
      const nonDecreasing = (depths: number[]) => depths.every((d, i) => i === 0 || depths[i - 1]! <= d);
      const state = await queries.state('remote.test', roomId, bobJoin.event_id);
      const chain = state['auth_chain'] as JsonObject[];
      assert.ok(nonDecreasing(depthsOf(chain)), `/state auth chain depths ${depthsOf(chain).join(',')}`);
      const levels = chain.filter((p) => p['type'] === 'm.room.power_levels');
      assert.equal(levels.length, 5);
      const current = (state['pdus'] as JsonObject[]).find((p) => p['type'] === 'm.room.power_levels')!;
      assert.deepEqual(levels.at(-1), current, 'the newest power levels come last');
      assert.ok(nonDecreasing(depthsOf((await queries.eventAuth('remote.test', roomId, bobJoin.event_id))['auth_chain'])));
    });

    test('backfill returns the given events and their ancestors, deepest first, up to the limit', async () => {
      const roomId = await createAndSay();
      await joinBob(roomId);
      const events = [await say(roomId, 'a'), await say(roomId, 'b'), await say(roomId, 'c')];
      const body = await queries.backfill('remote.test', roomId, [events[2]!.event_id], 2);
      assert.deepEqual(ids(body['pdus']), ['c', 'b']);
    });

    test('get_missing_events walks back from latest, stops at earliest, oldest first', async () => {
      const roomId = await createAndSay();
      await joinBob(roomId);
      const a = await say(roomId, 'a');
      await say(roomId, 'b');
      await say(roomId, 'c');
      const d = await say(roomId, 'd');
      const body = await queries.missingEvents('remote.test', roomId, { earliest: [a.event_id], latest: [d.event_id], limit: 10, minDepth: 0 });
      assert.deepEqual(ids(body['events']), ['b', 'c']);
      assert.deepEqual(referencedEventIds((body['events'] as unknown as Event[])[0]!.prev_events), [a.event_id]);
    });

    test("events from before the server's users joined a `joined` room are served redacted", async () => {
      const roomId = await rooms.createRoom([{ type: 'm.room.history_visibility', sender: ALICE, stateKey: '', content: { history_visibility: 'joined' } }]);
      await say(roomId, 'before bob');
      await joinBob(roomId);
      const after = await say(roomId, 'after bob');
      const body = await queries.backfill('remote.test', roomId, [after.event_id], 3);
      const pdus = body['pdus'] as JsonObject[];
      assert.deepEqual(pdus.map((p) => (p['content'] as JsonObject)['body'] ?? null), ['after bob', null, null]);
    });

    test('event_auth is the auth chain of the event', async () => {
      const roomId = await createAndSay();
      const bobJoin = await joinBob(roomId);
      const body = await queries.eventAuth('remote.test', roomId, bobJoin.event_id);
      const types = (body['auth_chain'] as JsonObject[]).map((p) => p['type']).sort();
      assert.ok(types.includes('m.room.power_levels') && types.includes('m.room.join_rules'));
      // From v12 the room ID stands for the create event: no event lists it as an auth event.
      assert.equal(types.includes('m.room.create'), !rooms.rules.roomIdIsCreateEventHash);
    });

    test("the room's ACL is enforced", async () => {
      const roomId = await createAndSay();
      const bobJoin = await joinBob(roomId);
      await rooms.pipeline.send(roomId, { type: 'm.room.server_acl', sender: ALICE, stateKey: '', content: { allow: ['*'], deny: ['remote.test'] } });
      await assert.rejects(queries.eventAuth('remote.test', roomId, bobJoin.event_id), /ACL denies/);
    });

    const createAndSay = async (): Promise<string> => rooms.createRoom();
  });
}
