// Relations, threads and bundled aggregations over real HTTP, plus room
// upgrades and the guest allow-list.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';

type Ev = { event_id: string; type: string; content: Record<string, unknown>; unsigned?: Record<string, unknown> };

describe('relations, threads, upgrades and guests', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let txn = 0;
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, user?: TestUser, version = 'v3') =>
    call<T>(hs.baseUrl, method, `/_matrix/client/${version}${path}`, body, user?.accessToken);
  const r = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;
  const send = async (user: TestUser, roomId: string, content: Record<string, unknown>, type = 'm.room.message') => {
    const res = await api('PUT', `${r(roomId)}/send/${type}/t${++txn}`, content, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id as string;
  };
  const getEvent = async (user: TestUser, roomId: string, eventId: string) =>
    (await api<Ev>('GET', `${r(roomId)}/event/${encodeURIComponent(eventId)}`, undefined, user)).body;
  const newRoom = async (extra: Record<string, unknown> = {}) => {
    const res = await api('POST', '/createRoom', { preset: 'public_chat', ...extra }, alice);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const roomId = res.body.room_id as string;
    await api('POST', `${r(roomId)}/join`, {}, bob);
    return roomId;
  };
  const thread = (root: string) => ({ rel_type: 'm.thread', event_id: root });

  before(async () => {
    hs = await startTestHomeserver({ config: { allowGuestAccess: true } });
    [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
  });
  after(async () => hs.close());

  test('a thread reply is bundled in its root and listed by /threads', async () => {
    const roomId = await newRoom();
    const root = await send(alice, roomId, { msgtype: 'm.text', body: 'root' });
    const other = await send(alice, roomId, { msgtype: 'm.text', body: 'other root' });
    await send(bob, roomId, { msgtype: 'm.text', body: 'reply 1', 'm.relates_to': thread(root) });
    await send(bob, roomId, { msgtype: 'm.text', body: 'reply 2', 'm.relates_to': thread(root) });
    await send(alice, roomId, { msgtype: 'm.text', body: 'other reply', 'm.relates_to': thread(other) });

    const bundled = (await getEvent(bob, roomId, root)).unsigned!['m.relations'] as Record<string, Record<string, unknown>>;
    assert.equal(bundled['m.thread']!.count, 2);
    assert.equal(bundled['m.thread']!.current_user_participated, true);
    assert.equal((bundled['m.thread']!.latest_event as Ev).content.body, 'reply 2');

    const forAlice = (await getEvent(alice, roomId, root)).unsigned!['m.relations'] as Record<string, Record<string, unknown>>;
    assert.equal(forAlice['m.thread']!.current_user_participated, true, 'the root sender participates');

    const threads = await api<{ chunk: Ev[]; next_batch?: string }>('GET', `${r(roomId)}/threads`, undefined, bob, 'v1');
    assert.equal(threads.status, 200);
    assert.deepEqual(threads.body.chunk.map((e) => e.event_id), [other, root], 'most recently active first');
    const page1 = await api<{ chunk: Ev[]; next_batch?: string }>('GET', `${r(roomId)}/threads?limit=1`, undefined, bob, 'v1');
    assert.deepEqual(page1.body.chunk.map((e) => e.event_id), [other]);
    const page2 = await api<{ chunk: Ev[]; next_batch?: string }>('GET', `${r(roomId)}/threads?limit=1&from=${page1.body.next_batch}`, undefined, bob, 'v1');
    assert.deepEqual(page2.body.chunk.map((e) => e.event_id), [root]);
    const mine = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/threads?include=participated`, undefined, bob, 'v1');
    assert.deepEqual(mine.body.chunk.map((e) => e.event_id), [root]);

    const rel = await api<{ chunk: Ev[]; next_batch?: string }>('GET', `${r(roomId)}/relations/${encodeURIComponent(root)}/m.thread?limit=1`, undefined, bob, 'v1');
    assert.deepEqual(rel.body.chunk.map((e) => e.content.body), ['reply 2']);
    const rel2 = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/relations/${encodeURIComponent(root)}/m.thread?limit=5&from=${rel.body.next_batch}`, undefined, bob, 'v1');
    assert.deepEqual(rel2.body.chunk.map((e) => e.content.body), ['reply 1']);
  });

  test('the latest edit is bundled as m.replace; a redacted edit drops out', async () => {
    const roomId = await newRoom();
    const original = await send(alice, roomId, { msgtype: 'm.text', body: 'teh cake' });
    const edit = (body: string) => ({ msgtype: 'm.text', body: `* ${body}`, 'm.new_content': { msgtype: 'm.text', body }, 'm.relates_to': { rel_type: 'm.replace', event_id: original } });
    const first = await send(alice, roomId, edit('the cake'));
    const second = await send(alice, roomId, edit('the chocolate cake'));
    await send(bob, roomId, edit('bob may not edit this'));
    await send(bob, roomId, { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: '👍' } }, 'm.reaction');

    let relations = (await getEvent(alice, roomId, original)).unsigned!['m.relations'] as Record<string, Ev>;
    assert.equal(relations['m.replace']!.event_id, second);
    assert.equal((await getEvent(alice, roomId, original)).content.body, 'teh cake', 'content is left intact');
    assert.equal(relations['m.annotation' as string], undefined, 'annotations are not aggregated');

    const redacted = await api('PUT', `${r(roomId)}/redact/${encodeURIComponent(second)}/t${++txn}`, {}, alice);
    assert.equal(redacted.status, 200);
    relations = (await getEvent(alice, roomId, original)).unsigned!['m.relations'] as Record<string, Ev>;
    assert.equal(relations['m.replace']!.event_id, first);

    const all = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/relations/${encodeURIComponent(original)}`, undefined, alice, 'v1');
    assert.ok(!all.body.chunk.some((e) => e.event_id === second), 'redacted relations are left out');
    const reactions = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/relations/${encodeURIComponent(original)}/m.annotation/m.reaction`, undefined, alice, 'v1');
    assert.equal(reactions.body.chunk.length, 1);
  });

  test('upgrade: tombstone, new room with predecessor and copied state, old room restricted', async () => {
    const roomId = await newRoom({ name: 'Old name', topic: 'Old topic', room_version: '10', room_alias_name: 'upgrademe' });
    const refused = await api('POST', `${r(roomId)}/upgrade`, { new_version: '11' }, bob);
    assert.equal(refused.status, 403);
    const unsupported = await api('POST', `${r(roomId)}/upgrade`, { new_version: '999' }, alice);
    assert.equal(unsupported.body.errcode, 'M_UNSUPPORTED_ROOM_VERSION');

    const res = await api('POST', `${r(roomId)}/upgrade`, { new_version: '11' }, alice);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const newRoomId = res.body.replacement_room as string;
    const tombstone = await api('GET', `${r(roomId)}/state/m.room.tombstone`, undefined, alice);
    assert.equal(tombstone.body.replacement_room, newRoomId);
    const create = await api('GET', `${r(newRoomId)}/state/m.room.create`, undefined, alice);
    assert.equal((create.body.predecessor as Record<string, unknown>).room_id, roomId);
    assert.equal(create.body.room_version, '11');
    assert.equal((await api('GET', `${r(newRoomId)}/state/m.room.name`, undefined, alice)).body.name, 'Old name');
    assert.equal((await api('GET', `${r(newRoomId)}/state/m.room.topic`, undefined, alice)).body.topic, 'Old topic');
    const alias = await api('GET', `/directory/room/${encodeURIComponent(`#upgrademe:${hs.server.config.serverName}`)}`);
    if (alias.status === 200) assert.equal(alias.body.room_id, newRoomId);
    const oldPl = await api('GET', `${r(roomId)}/state/m.room.power_levels`, undefined, alice);
    assert.equal(oldPl.body.events_default, 50);
    assert.equal(oldPl.body.invite, 50);
    const bobSends = await api('PUT', `${r(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: 'hi' }, bob);
    assert.equal(bobSends.status, 403, 'the old room no longer takes messages from ordinary members');
  });

  test('guests are refused non-guest routes with M_GUEST_ACCESS_FORBIDDEN, and join only can_join rooms', async () => {
    const reg = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/register?kind=guest', {});
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const guest: TestUser = { userId: reg.body.user_id as string, accessToken: reg.body.access_token as string, deviceId: reg.body.device_id as string };
    const create = await api('POST', '/createRoom', {}, guest);
    assert.equal(create.status, 403);
    assert.equal(create.body.errcode, 'M_GUEST_ACCESS_FORBIDDEN');
    assert.equal((await api('GET', '/account/whoami', undefined, guest)).status, 200);

    const noGuests = await newRoom();
    const refused = await api('POST', `${r(noGuests)}/join`, {}, guest);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.errcode, 'M_GUEST_ACCESS_FORBIDDEN');
    const welcoming = await newRoom({ initial_state: [{ type: 'm.room.guest_access', content: { guest_access: 'can_join' } }] });
    assert.equal((await api('POST', `${r(welcoming)}/join`, {}, guest)).status, 200);
    await send(guest, welcoming, { msgtype: 'm.text', body: 'guest here' });
    const page = await api<{ chunk: Ev[] }>('GET', `${r(welcoming)}/messages?dir=b`, undefined, guest);
    assert.equal(page.status, 200);
    assert.equal(page.body.chunk[0]!.content.body, 'guest here');
  });
});
