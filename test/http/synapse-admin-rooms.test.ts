// Synapse's room admin API over real HTTP (Synapse docs, admin_api/rooms.md
// and purge_history_api.md): listing, details, block, delete with purge, and
// purging history — checked in the database as well as through the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerAdmin } from '../helpers/admin.js';

const enc = encodeURIComponent;

for (const engine of ENGINES) {
  describe(`Synapse room admin API (${engine})`, () => {
    let hs: TestHomeserver;
    let admin: TestUser;
    let alice: TestUser;
    let bob: TestUser;
    const api = (method: string, path: string, body?: unknown, user: TestUser = admin) => call(hs.baseUrl, method, path, body, user.accessToken);
    const createRoom = async (user: TestUser, body: Record<string, unknown>): Promise<string> => {
      const r = await api('POST', '/_matrix/client/v3/createRoom', body, user);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.room_id as string;
    };
    const send = async (user: TestUser, roomId: string, text: string): Promise<string> => {
      const r = await api('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${Math.random()}`, { msgtype: 'm.text', body: text }, user);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.event_id as string;
    };
    const join = (user: TestUser, roomId: string) => api('POST', `/_matrix/client/v3/join/${enc(roomId)}`, {}, user);
    const timelineBodies = async (roomId: string, user: TestUser): Promise<string[]> => {
      const r = await api('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=100`, undefined, user);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.chunk as Array<{ type: string; content: { body?: string } }>).filter((e) => e.type === 'm.room.message').map((e) => e.content.body!).reverse();
    };
    const storedEvents = async (roomId: string) =>
      hs.server.db.query<{ event_id: string; type: string; outlier: number }>('SELECT event_id, type, outlier FROM events WHERE room_id = ?', [roomId]);
    const waitForPurge = async (purgeId: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const r = await api('GET', `/_synapse/admin/v1/purge_history_status/${enc(purgeId)}`);
        assert.equal(r.status, 200);
        if (r.body.status !== 'active') return r.body;
        await sleep(20);
      }
    };

    before(async () => {
      hs = await startTestHomeserver({ engine });
      admin = await registerAdmin(hs, 'root');
      alice = await registerUser(hs.baseUrl, 'alice');
      bob = await registerUser(hs.baseUrl, 'bob');
    });
    after(async () => hs.close());

    test('every route answers a non-admin 403 M_FORBIDDEN', async () => {
      const room = enc('!nowhere:example.org');
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/_synapse/admin/v1/rooms'],
        ['GET', `/_synapse/admin/v1/rooms/${room}`],
        ['GET', `/_synapse/admin/v1/rooms/${room}/members`],
        ['GET', `/_synapse/admin/v1/rooms/${room}/state`],
        ['GET', `/_synapse/admin/v1/rooms/${room}/block`],
        ['PUT', `/_synapse/admin/v1/rooms/${room}/block`, { block: true }],
        ['DELETE', `/_synapse/admin/v1/rooms/${room}`, {}],
        ['POST', `/_synapse/admin/v1/purge_history/${room}`, { purge_up_to_ts: 1 }],
        ['POST', `/_synapse/admin/v1/purge_history/${room}/${enc('$event')}`, {}],
        ['GET', '/_synapse/admin/v1/purge_history_status/abc'],
        ['DELETE', `/_synapse/admin/v2/rooms/${room}`, {}],
        ['GET', `/_synapse/admin/v2/rooms/${room}/delete_status`],
        ['GET', '/_synapse/admin/v2/rooms/delete_status/abc'],
        ['GET', `/_synapse/admin/v1/users/${enc(bob.userId)}/joined_rooms`],
      ];
      for (const [method, path, body] of routes) {
        const r = await api(method, path, body, alice);
        assert.deepEqual([r.status, r.body.errcode], [403, 'M_FORBIDDEN'], `${method} ${path}`);
      }
    });

    test('list, details, members and state in Synapse shapes; filters, order and paging', async () => {
      const garden = await createRoom(alice, { name: 'Garden', preset: 'public_chat', room_alias_name: 'garden', visibility: 'public' });
      await join(bob, garden);
      const attic = await createRoom(alice, { name: 'Attic', initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }] });
      const cellar = await createRoom(bob, { name: 'Cellar', creation_content: { 'm.federate': false } });

      const list = await api('GET', '/_synapse/admin/v1/rooms?search_term=a');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const rooms = list.body.rooms as Array<Record<string, unknown>>;
      assert.deepEqual(rooms.map((r) => r.name), ['Attic', 'Cellar', 'Garden'], 'ordered by name');
      assert.deepEqual([list.body.total_rooms, list.body.offset, list.body.next_batch], [3, 0, undefined]);
      const gardenRow = rooms.find((r) => r.room_id === garden)!;
      assert.deepEqual(
        { ...gardenRow, version: undefined },
        {
          room_id: garden,
          name: 'Garden',
          canonical_alias: `#garden:${hs.config.serverName}`,
          joined_members: 2,
          joined_local_members: 2,
          version: undefined,
          creator: alice.userId,
          encryption: null,
          federatable: true,
          public: true,
          join_rules: 'public',
          guest_access: null,
          history_visibility: 'shared',
          state_events: gardenRow.state_events,
          room_type: null,
        },
      );
      assert.equal(typeof gardenRow.version, 'string');
      assert.ok((gardenRow.state_events as number) >= 6);
      const atticRow = rooms.find((r) => r.room_id === attic)!;
      assert.deepEqual([atticRow.encryption, atticRow.join_rules, atticRow.public], ['m.megolm.v1.aes-sha2', 'invite', false]);
      assert.equal(rooms.find((r) => r.room_id === cellar)!.federatable, false);

      const page = await api('GET', '/_synapse/admin/v1/rooms?search_term=a&limit=2&order_by=name&dir=b');
      assert.deepEqual((page.body.rooms as Array<{ name: string }>).map((r) => r.name), ['Garden', 'Cellar']);
      assert.deepEqual([page.body.next_batch, page.body.prev_batch], [2, undefined]);
      const next = await api('GET', '/_synapse/admin/v1/rooms?search_term=a&limit=2&order_by=name&dir=b&from=2');
      assert.deepEqual([(next.body.rooms as Array<{ name: string }>).map((r) => r.name), next.body.prev_batch], [['Attic'], 0]);
      const bySize = await api('GET', '/_synapse/admin/v1/rooms?order_by=joined_members&dir=b&limit=1');
      assert.equal((bySize.body.rooms as Array<{ room_id: string }>)[0]!.room_id, garden);
      const publicOnly = await api('GET', '/_synapse/admin/v1/rooms?public_rooms=true');
      assert.deepEqual((publicOnly.body.rooms as Array<{ room_id: string }>).map((r) => r.room_id), [garden]);
      const byAlias = await api('GET', `/_synapse/admin/v1/rooms?search_term=${enc('#GARDEN')}`);
      assert.equal(byAlias.body.total_rooms, 1);
      const byId = await api('GET', `/_synapse/admin/v1/rooms?search_term=${enc(cellar)}`);
      assert.deepEqual((byId.body.rooms as Array<{ room_id: string }>).map((r) => r.room_id), [cellar]);
      const badOrder = await api('GET', '/_synapse/admin/v1/rooms?order_by=colour');
      assert.deepEqual([badOrder.status, badOrder.body.errcode], [400, 'M_INVALID_PARAM']);

      const details = await api('GET', `/_synapse/admin/v1/rooms/${enc(garden)}`);
      assert.equal(details.status, 200);
      assert.deepEqual([details.body.name, details.body.topic, details.body.avatar], ['Garden', null, null]);
      const members = await api('GET', `/_synapse/admin/v1/rooms/${enc(garden)}/members`);
      assert.deepEqual(members.body, { members: [alice.userId, bob.userId].sort(), total: 2 });
      const state = await api('GET', `/_synapse/admin/v1/rooms/${enc(garden)}/state`);
      const types = (state.body.state as Array<{ type: string; room_id: string; event_id: string }>).map((e) => e.type);
      assert.ok(types.includes('m.room.create') && types.includes('m.room.name'), types.join());
      assert.equal(types.length, gardenRow.state_events);

      const unknown = await api('GET', `/_synapse/admin/v1/rooms/${enc(`!unknown:${hs.config.serverName}`)}`);
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const invalid = await api('GET', `/_synapse/admin/v1/rooms/${enc('not-a-room')}/members`);
      assert.deepEqual([invalid.status, invalid.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('a blocked room refuses local joins and invites until unblocked', async () => {
      const roomId = await createRoom(alice, { preset: 'public_chat' });
      assert.deepEqual((await api('GET', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`)).body, { block: false });
      const put = await api('PUT', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`, { block: true });
      assert.deepEqual([put.status, put.body], [200, { block: true }]);
      assert.deepEqual((await api('GET', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`)).body, { block: true, user_id: admin.userId });
      const refused = await join(bob, roomId);
      assert.deepEqual([refused.status, refused.body.errcode], [403, 'M_FORBIDDEN']);
      const invite = await api('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }, alice);
      assert.deepEqual([invite.status, invite.body.errcode], [403, 'M_FORBIDDEN']);
      await api('PUT', `/_synapse/admin/v1/rooms/${enc(roomId)}/block`, { block: false });
      assert.equal((await join(bob, roomId)).status, 200);

      const never = enc('!never-seen:elsewhere.example');
      assert.equal((await api('PUT', `/_synapse/admin/v1/rooms/${never}/block`, { block: true })).status, 200, 'rooms never seen may be blocked');
      const noBody = await api('PUT', `/_synapse/admin/v1/rooms/${never}/block`, {});
      assert.deepEqual([noBody.status, noBody.body.errcode], [400, 'M_MISSING_PARAM']);
    });

    test('DELETE makes local members leave, removes aliases, and purges the room from storage', async () => {
      const roomId = await createRoom(alice, { name: 'Doomed', preset: 'public_chat', room_alias_name: 'doomed', visibility: 'public' });
      assert.equal((await join(bob, roomId)).status, 200);
      await send(bob, roomId, 'hello');
      await api('POST', '/_matrix/client/v3/search', { search_categories: { room_events: { search_term: 'hello' } } }, bob);

      const deleted = await api('DELETE', `/_synapse/admin/v1/rooms/${enc(roomId)}`, { block: true });
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.deepEqual((deleted.body.kicked_users as string[]).sort(), [alice.userId, bob.userId].sort());
      assert.deepEqual(deleted.body.failed_to_kick_users, []);
      assert.deepEqual(deleted.body.local_aliases, [`#doomed:${hs.config.serverName}`]);
      assert.equal(deleted.body.new_room_id, null);

      assert.deepEqual(await storedEvents(roomId), [], 'no event of the room is left');
      for (const table of ['rooms', 'current_state', 'room_memberships', 'forward_extremities', 'room_aliases']) {
        const rows = await hs.server.db.query(`SELECT 1 FROM ${table} WHERE room_id = ?`, [roomId]);
        assert.equal(rows.length, 0, table);
      }
      assert.equal((await api('GET', `/_synapse/admin/v1/rooms/${enc(roomId)}`)).status, 404);
      const joined = await api('GET', '/_matrix/client/v3/joined_rooms', undefined, bob);
      assert.ok(!(joined.body.joined_rooms as string[]).includes(roomId));
      const alias = await call(hs.baseUrl, 'GET', `/_matrix/client/v3/directory/room/${enc(`#doomed:${hs.config.serverName}`)}`);
      assert.equal(alias.status, 404);
      const search = await api('POST', '/_matrix/client/v3/search', { search_categories: { room_events: { search_term: 'hello' } } }, bob);
      assert.equal(((search.body.search_categories as { room_events: { count: number } }).room_events).count, 0);
      assert.equal((await join(bob, roomId)).status, 403, 'blocked with the delete');
      const sync = await api('GET', '/_matrix/client/v3/sync', undefined, bob);
      assert.equal(sync.status, 200, 'sync still works for a former member');

      const again = await api('DELETE', `/_synapse/admin/v1/rooms/${enc(roomId)}`, {});
      assert.deepEqual([again.status, again.body.errcode], [404, 'M_NOT_FOUND']);
    });

    test('DELETE with new_room_user_id moves the local members and aliases to a new room that says why', async () => {
      const roomId = await createRoom(alice, { name: 'Bad place', preset: 'public_chat', room_alias_name: 'badplace' });
      assert.equal((await join(bob, roomId)).status, 200);
      const deleted = await api('DELETE', `/_synapse/admin/v1/rooms/${enc(roomId)}`, { new_room_user_id: admin.userId, message: 'This room broke the rules.' });
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      const newRoomId = deleted.body.new_room_id as string;
      assert.equal(typeof newRoomId, 'string');
      assert.deepEqual(deleted.body.local_aliases, [`#badplace:${hs.config.serverName}`]);
      const details = await api('GET', `/_synapse/admin/v1/rooms/${enc(newRoomId)}`);
      assert.deepEqual([details.body.name, details.body.creator, details.body.joined_members], ['Content Violation Notification', admin.userId, 3]);
      assert.deepEqual(await timelineBodies(newRoomId, bob), ['This room broke the rules.']);
      const alias = await call(hs.baseUrl, 'GET', `/_matrix/client/v3/directory/room/${enc(`#badplace:${hs.config.serverName}`)}`);
      assert.equal(alias.body.room_id, newRoomId);
      const speak = await send(bob, newRoomId, 'may I?').catch((err: Error) => err);
      assert.ok(speak instanceof Error, 'members of the new room cannot speak');
      const stranger = await api('DELETE', `/_synapse/admin/v1/rooms/${enc(newRoomId)}`, { new_room_user_id: '@x:elsewhere.example' });
      assert.deepEqual([stranger.status, stranger.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('DELETE with purge: false keeps the history but empties the room', async () => {
      const roomId = await createRoom(alice, { name: 'Kept' });
      await send(alice, roomId, 'still here');
      const deleted = await api('DELETE', `/_synapse/admin/v1/rooms/${enc(roomId)}`, { purge: false });
      assert.deepEqual(deleted.body.kicked_users, [alice.userId]);
      const details = await api('GET', `/_synapse/admin/v1/rooms/${enc(roomId)}`);
      assert.deepEqual([details.status, details.body.joined_members], [200, 0]);
      assert.ok((await storedEvents(roomId)).length > 0);
    });

    test('v2 DELETE runs in the background and reports by delete ID and by room', async () => {
      const roomId = await createRoom(alice, { name: 'Later', preset: 'public_chat' });
      assert.equal((await join(bob, roomId)).status, 200);
      const joined = await api('GET', `/_synapse/admin/v1/users/${enc(bob.userId)}/joined_rooms`);
      assert.ok((joined.body.joined_rooms as string[]).includes(roomId));
      assert.equal(joined.body.total, (joined.body.joined_rooms as string[]).length);

      const started = await api('DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, {});
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const deleteId = started.body.delete_id as string;
      let status: Record<string, unknown>;
      do {
        await sleep(20);
        status = (await api('GET', `/_synapse/admin/v2/rooms/delete_status/${enc(deleteId)}`)).body;
      } while (status.status === 'shutting_down' || status.status === 'purging');
      assert.equal(status.status, 'complete', JSON.stringify(status));
      const shutdown = status.shutdown_room as { kicked_users: string[]; new_room_id: null };
      assert.deepEqual(shutdown.kicked_users.sort(), [alice.userId, bob.userId].sort());
      const byRoom = await api('GET', `/_synapse/admin/v2/rooms/${enc(roomId)}/delete_status`);
      assert.deepEqual((byRoom.body.results as Array<{ delete_id: string; status: string }>).map((r) => [r.delete_id, r.status]), [[deleteId, 'complete']]);
      assert.deepEqual(await storedEvents(roomId), []);
      const after = await api('GET', `/_synapse/admin/v1/users/${enc(bob.userId)}/joined_rooms`);
      assert.ok(!(after.body.joined_rooms as string[]).includes(roomId));

      const unknown = await api('DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, {});
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const noDeletion = await api('GET', `/_synapse/admin/v2/rooms/${enc(`!other:${hs.config.serverName}`)}/delete_status`);
      assert.deepEqual([noDeletion.status, noDeletion.body.errcode], [404, 'M_NOT_FOUND']);
    });

    test('purge_history by event: remote-only by default (local events leave the timeline but stay), all with delete_local_events', async () => {
      const roomId = await createRoom(alice, { name: 'History' });
      await send(alice, roomId, 'one');
      await send(alice, roomId, 'two');
      const three = await send(alice, roomId, 'three');
      await send(alice, roomId, 'four');

      const started = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_event_id: three });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.deepEqual(await waitForPurge(started.body.purge_id as string), { status: 'complete' });
      assert.deepEqual(await timelineBodies(roomId, alice), ['three', 'four']);
      const kept = await storedEvents(roomId);
      assert.equal(kept.filter((e) => e.type === 'm.room.message').length, 4, 'local events are kept unless asked');
      assert.ok(kept.filter((e) => e.type === 'm.room.create').every((e) => Number(e.outlier) === 1), 'state stays, out of the timeline');

      const all = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}/${enc(three)}`, { delete_local_events: true });
      assert.deepEqual(await waitForPurge(all.body.purge_id as string), { status: 'complete' });
      const left = await storedEvents(roomId);
      assert.equal(left.filter((e) => e.type === 'm.room.message').length, 2, 'the two older messages are gone from storage');
      assert.ok(left.some((e) => e.type === 'm.room.create'), 'state events are never deleted');

      await send(alice, roomId, 'five');
      assert.deepEqual(await timelineBodies(roomId, alice), ['three', 'four', 'five'], 'the room carries on');
      const sync = await api('GET', '/_matrix/client/v3/sync', undefined, alice);
      assert.equal(sync.status, 200);
    });

    test('purge_history takes the purged events\' notifications out of the unread counts', async () => {
      const roomId = await createRoom(alice, { preset: 'public_chat' });
      assert.equal((await join(bob, roomId)).status, 200);
      const first = await send(alice, roomId, 'first');
      assert.equal((await api('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/receipt/m.read/${enc(first)}`, {}, bob)).status, 200);
      let last = '';
      for (const text of ['one', 'two', 'three']) last = await send(alice, roomId, text);
      const unread = async () => {
        const sync = await api('GET', '/_matrix/client/v3/sync', undefined, bob);
        return ((sync.body.rooms as Record<string, Record<string, { unread_notifications: { notification_count: number } }>>).join[roomId]!).unread_notifications.notification_count;
      };
      assert.equal(await unread(), 3);

      const started = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}/${enc(last)}`, {});
      assert.deepEqual(await waitForPurge(started.body.purge_id as string), { status: 'complete' });
      assert.equal(await unread(), 1, 'only the boundary, still in the timeline, is unread');
      await send(alice, roomId, 'four');
      assert.equal(await unread(), 2);
    });

    test('purge_history by timestamp; bad requests', async () => {
      const roomId = await createRoom(alice, { name: 'Timed' });
      await send(alice, roomId, 'old');
      await send(alice, roomId, 'older boundary');
      await sleep(5);
      const cutoff = Date.now();
      await sleep(5);
      await send(alice, roomId, 'new');
      const started = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_ts: cutoff, delete_local_events: true });
      assert.deepEqual(await waitForPurge(started.body.purge_id as string), { status: 'complete' });
      // As Synapse: everything sent before the time, up to the room's first event at or after it.
      assert.deepEqual(await timelineBodies(roomId, alice), ['new']);
      const later = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_ts: Date.now() + 60_000, delete_local_events: true });
      assert.deepEqual(await waitForPurge(later.body.purge_id as string), { status: 'complete' });
      assert.deepEqual(await timelineBodies(roomId, alice), ['new'], 'a time after the last event purges up to it, never the newest');

      const none = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, {});
      assert.deepEqual([none.status, none.body.errcode], [400, 'M_MISSING_PARAM']);
      const otherRoom = await createRoom(alice, {});
      const elsewhere = await send(alice, otherRoom, 'x');
      const wrongRoom = await api('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_event_id: elsewhere });
      assert.deepEqual([wrongRoom.status, wrongRoom.body.errcode], [400, 'M_INVALID_PARAM']);
      const unknownRoom = await api('POST', `/_synapse/admin/v1/purge_history/${enc(`!nope:${hs.config.serverName}`)}`, { purge_up_to_ts: cutoff });
      assert.deepEqual([unknownRoom.status, unknownRoom.body.errcode], [404, 'M_NOT_FOUND']);
      const unknownPurge = await api('GET', '/_synapse/admin/v1/purge_history_status/nothing');
      assert.deepEqual([unknownPurge.status, unknownPurge.body.errcode], [404, 'M_NOT_FOUND']);
    });
  });
}

describe('room admin work in the background at shutdown', () => {
  test('a purge still queued when the server stops is finished before the database closes', async () => {
    const hs = await startTestHomeserver();
    const admin = await registerAdmin(hs);
    const created = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', {}, admin.accessToken);
    const roomId = created.body.room_id as string;
    let boundary = '';
    for (const text of ['a', 'b']) {
      const sent = await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${text}`, { msgtype: 'm.text', body: text }, admin.accessToken);
      boundary = sent.body.event_id as string;
    }
    // Hold the room's queue, so the purge waits in it while the server stops.
    let release = (): void => {};
    const held = hs.server.services.pipeline.withRoom(roomId, () => new Promise<void>((resolve) => (release = resolve)));
    const started = await call(hs.baseUrl, 'POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, { purge_up_to_event_id: boundary, delete_local_events: true }, admin.accessToken);
    const purgeId = started.body.purge_id as string;
    const closing = hs.close();
    await sleep(50);
    release();
    await held;
    await closing;
    assert.deepEqual(hs.server.services.roomAdministration.purgeStatus(purgeId), { status: 'complete' });
  });
});
