// A filter's `limit` bounds the timeline it applies to: /sync's
// room.timeline (inline JSON and an uploaded filter's ID), and the
// RoomEventFilter of /messages and /context; and joined_members always
// carries display_name and avatar_url, null when unset (as Synapse answers).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { describeEngineAndRoomVersions } from '../helpers/room-versions.js';
import { enc, V3 } from './user-data-helpers.js';

interface Ev {
  event_id: string;
  type: string;
  state_key?: string;
  content: { body?: string };
}

describeEngineAndRoomVersions('filter limits and joined members', (server, version) => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  const eventIds: string[] = [];
  const api = (method: string, path: string, body?: unknown, user = alice) => call(server().baseUrl, method, path, body, user.accessToken);
  const room = () => `${V3}/rooms/${enc(roomId)}`;
  const syncTimeline = async (filter: string) => {
    const res = await api('GET', `${V3}/sync?filter=${enc(filter)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.rooms as { join: Record<string, { timeline: { events: Ev[]; limited: boolean } }> }).join[roomId]!.timeline;
  };
  const chunkOf = async (path: string) => {
    const res = await api('GET', path);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.chunk as Ev[];
  };

  before(async () => {
    alice = await registerUser(server().baseUrl, `alice${version}`);
    bob = await registerUser(server().baseUrl, `bob${version}`);
    await api('PUT', `${V3}/profile/${enc(alice.userId)}/avatar_url`, { avatar_url: 'mxc://localhost/a' });
    roomId = (await api('POST', `${V3}/createRoom`, { preset: 'public_chat', room_version: version })).body.room_id as string;
    assert.equal((await api('POST', `${V3}/join/${enc(roomId)}`, {}, bob)).status, 200);
    for (let i = 0; i < 6; i++) {
      const sent = await api('PUT', `${room()}/send/m.room.message/m${i}`, { msgtype: 'm.text', body: `m${i}` });
      eventIds.push(sent.body.event_id as string);
    }
  });

  test('/sync: room.timeline.limit, inline and by filter ID, keeps the newest events', async () => {
    const definition = { room: { timeline: { limit: 2 } } };
    const inline = await syncTimeline(JSON.stringify(definition));
    assert.deepEqual(inline.events.map((e) => e.event_id), eventIds.slice(-2));
    assert.equal(inline.limited, true);
    const filterId = (await api('POST', `${V3}/user/${enc(alice.userId)}/filter`, definition)).body.filter_id as string;
    const stored = await syncTimeline(filterId);
    assert.deepEqual(stored.events.map((e) => e.event_id), eventIds.slice(-2));
  });

  test('/sync: the limit counts the events the filter lets through, not the events it looked at', async () => {
    // Six messages of alice's follow bob's join: with limit 3 the newest three events hold none of bob's.
    const bobs = await syncTimeline(JSON.stringify({ room: { timeline: { limit: 3, senders: [bob.userId] } } }));
    assert.deepEqual(bobs.events.map((e) => e.type), ['m.room.member']);
    const members = await syncTimeline(JSON.stringify({ room: { timeline: { limit: 2, types: ['m.room.member'] } } }));
    assert.deepEqual(members.events.map((e) => e.state_key), [alice.userId, bob.userId]);
  });

  test("/messages: the filter's limit bounds the page, and so does the query's", async () => {
    const filter = (json: object) => enc(JSON.stringify(json));
    const bounded = await chunkOf(`${room()}/messages?dir=b&filter=${filter({ limit: 2 })}`);
    assert.deepEqual(bounded.map((e) => e.event_id), eventIds.slice(-2).reverse());
    const smallerQuery = await chunkOf(`${room()}/messages?dir=b&limit=1&filter=${filter({ limit: 5 })}`);
    assert.equal(smallerQuery.length, 1);
    const withTypes = await chunkOf(`${room()}/messages?dir=f&filter=${filter({ limit: 3, types: ['m.room.message'] })}`);
    assert.deepEqual(withTypes.map((e) => e.event_id), eventIds.slice(0, 3));
  });

  test("/context: the filter's limit bounds the events around the one asked for", async () => {
    const res = await api('GET', `${room()}/context/${enc(eventIds[3]!)}?limit=10&filter=${enc(JSON.stringify({ limit: 2 }))}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const around = [...(res.body.events_before as Ev[]), ...(res.body.events_after as Ev[])];
    assert.deepEqual(around.map((e) => e.event_id).sort(), [eventIds[2]!, eventIds[4]!].sort());
  });

  test('joined_members: display_name and avatar_url always present, null when unset', async () => {
    const res = await api('GET', `${room()}/joined_members`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.joined, {
      [alice.userId]: { display_name: `alice${version}`, avatar_url: 'mxc://localhost/a' },
      [bob.userId]: { display_name: `bob${version}`, avatar_url: null },
    });
  });
});
